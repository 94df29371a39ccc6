// Tests read their own assertions, not the shop's request logs.
process.env.LOG_LEVEL ??= 'warn';
process.env.LOG_HTTP_REQUESTS ??= 'false';
