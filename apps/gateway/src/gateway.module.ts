import { Module, type DynamicModule } from '@nestjs/common';
import { IngressModule, type IngressModuleOptions } from '@aigw/ingress';

/**
 * All roles in one process. The ingress talks to the router and the router to the
 * provider adapters by direct calls: the same modules the single-role apps use, with
 * no loopback hop in between.
 */
@Module({})
export class GatewayModule {
  static create(ingress: IngressModuleOptions): DynamicModule {
    return { module: GatewayModule, imports: [IngressModule.forRoot(ingress)] };
  }
}
