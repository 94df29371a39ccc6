export { runTarget, type RunningTarget } from './run-target';
export { MODULES } from './module-catalogue';
