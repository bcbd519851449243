export * from './alert-notifier';
export * from './budget-settler';
