export * from './alert-notifier';
export * from './budget-settler';
export * from './budget-rebuild';
export * from './budget-role';
export * from './admin/budget-admin-routes';
export * from './admin/budget-adjustment.dto';
