export * from './send-confirmation-on-email-confirmation-requested.handler';
export * from './warn-owner-on-registration-attempted.handler';
