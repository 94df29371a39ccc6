export { runTarget, type RunningTarget } from './run-target';
export { CONTRACTS, MODULES } from './module-catalogue';
