export * from './alert-notifier';
export * from './budget-settler';
export * from './budget-rebuild';
export * from './budget-role';
