export { runTarget, type RunningTarget, type RunTargetOptions } from './run-target';
export { runProcess } from './run-process';
export { MODULES, moduleOf } from './module-catalogue';
export { readConfiguration, settingsOfTarget } from './process-settings';
