import {
  Controller,
  Get,
  Inject,
  NotFoundException,
  Param,
  Query,
  Req,
  UseFilters,
} from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { bearerToken, isThisHostCaller, matchesSecretDigest, secretDigest } from '@aigw/runtime';
import {
  USAGE_ANALYTICS,
  type BudgetAdjustmentRow,
  type BudgetStateRow,
  type FallbackRow,
  type LatencyRow,
  type PayloadRecord,
  type PayloadSummary,
  type RatesReport,
  type SpenderRow,
  type UsageAnalytics,
  type UsageReport,
} from '../domain/analytics.types';
import {
  parseBudgetAdjustmentsQuery,
  parseBudgetsQuery,
  parseFallbacksQuery,
  parseLatencyQuery,
  parsePayloadsQuery,
  parseRequestId,
  parseRatesQuery,
  parseTopSpendersQuery,
  parseUsageQuery,
} from './analytics-query.dto';
import { AnalyticsExceptionFilter } from './analytics-exception.filter';
import { budgetsPage, spendersPage, type Page } from './keyset-cursor';
import {
  ANALYTICS_HTTP_OPTIONS,
  AnalyticsAccessError,
  AnalyticsClosedError,
  type AnalyticsHttpOptions,
} from './analytics-http.options';

/** The analytics API: JSON over the rollups (or the embedded store). */
@Controller('v1/analytics')
@UseFilters(AnalyticsExceptionFilter)
export class AnalyticsController {
  /** The token's digest, compared in constant time (see matchesSecretDigest). */
  private readonly tokenDigest: Buffer | undefined;

  constructor(
    @Inject(USAGE_ANALYTICS) private readonly analytics: UsageAnalytics,
    @Inject(ANALYTICS_HTTP_OPTIONS) private readonly options: AnalyticsHttpOptions,
  ) {
    this.tokenDigest = options.accessToken ? secretDigest(options.accessToken) : undefined;
  }

  @Get('usage')
  async usage(
    @Query() query: unknown,
    @Req() request: FastifyRequest,
  ): Promise<UsageReport & { query: Record<string, string> }> {
    this.authorize(request);
    const parsed = parseUsageQuery(query);
    const report = await this.analytics.usage(parsed);
    return {
      query: {
        from: parsed.from.toISOString(),
        to: parsed.to.toISOString(),
        bucket: parsed.bucket,
        groupBy: parsed.groupBy,
      },
      ...report,
    };
  }

  /**
   * The most spent, or with orderBy=user one page of every user, whose `nextCursor` asks for
   * the next (null: no more).
   */
  @Get('top-spenders')
  async topSpenders(
    @Query() query: unknown,
    @Req() request: FastifyRequest,
  ): Promise<{ rows: readonly SpenderRow[] } | Page<SpenderRow>> {
    this.authorize(request);
    const parsed = parseTopSpendersQuery(query);
    if (parsed.orderBy !== 'user') return { rows: await this.analytics.topSpenders(parsed) };
    const rows = await this.analytics.topSpenders({ ...parsed, limit: parsed.limit + 1 });
    return spendersPage(rows, parsed.limit);
  }

  @Get('rates')
  async rates(@Query() query: unknown, @Req() request: FastifyRequest): Promise<RatesReport> {
    this.authorize(request);
    return this.analytics.rates(parseRatesQuery(query));
  }

  @Get('latency')
  async latency(
    @Query() query: unknown,
    @Req() request: FastifyRequest,
  ): Promise<{ rows: readonly LatencyRow[] }> {
    this.authorize(request);
    return { rows: await this.analytics.latency(parseLatencyQuery(query)) };
  }

  @Get('fallbacks')
  async fallbacks(
    @Query() query: unknown,
    @Req() request: FastifyRequest,
  ): Promise<{ rows: readonly FallbackRow[] }> {
    this.authorize(request);
    return { rows: await this.analytics.fallbacks(parseFallbacksQuery(query)) };
  }

  /** One page of the limits' newest states; `nextCursor` asks for the next (null: no more). */
  @Get('budgets')
  async budgets(
    @Query() query: unknown,
    @Req() request: FastifyRequest,
  ): Promise<{ rows: readonly BudgetStateRow[]; nextCursor: string | null }> {
    this.authorize(request);
    const parsed = parseBudgetsQuery(query);
    // One row past the page tells whether there is a next one.
    const rows = await this.analytics.budgets({ ...parsed, limit: parsed.limit + 1 });
    return budgetsPage(rows, parsed.limit);
  }

  /**
   * What a request asked and was answered, on a route with payloadLogging on; 404 when
   * none was logged (logging off, sampled out, expired, or not yet stored).
   */
  @Get('requests/:requestId/payload')
  async payload(
    @Param('requestId') requestId: string,
    @Req() request: FastifyRequest,
  ): Promise<PayloadRecord> {
    this.authorizePayloads(request);
    const found = await this.analytics.payload(parseRequestId(requestId));
    if (!found) throw new NotFoundException(`no payload is stored for request ${requestId}`);
    return found;
  }

  /** A user's logged requests, newest first, without their bodies. */
  @Get('payloads')
  async payloads(
    @Query() query: unknown,
    @Req() request: FastifyRequest,
  ): Promise<{ rows: readonly PayloadSummary[] }> {
    this.authorizePayloads(request);
    return { rows: await this.analytics.payloads(parsePayloadsQuery(query)) };
  }

  /** Who gave a user budget back, when and how much: operators' resets and credits. */
  @Get('budget-adjustments')
  async budgetAdjustments(
    @Query() query: unknown,
    @Req() request: FastifyRequest,
  ): Promise<{ rows: readonly BudgetAdjustmentRow[] }> {
    this.authorize(request);
    return { rows: await this.analytics.budgetAdjustments(parseBudgetAdjustmentsQuery(query)) };
  }

  /**
   * Logged prompts and answers are what users wrote: never served without the token, even
   * to a caller on this host.
   */
  private authorizePayloads(request: FastifyRequest): void {
    if (!this.options.accessToken) {
      throw new AnalyticsClosedError(
        'logged payloads are served only when AI_GATEWAY_ANALYTICS_TOKEN is set (then as Bearer)',
      );
    }
    this.authorize(request);
  }

  /**
   * With the token set, its bearer only. Without it, callers on this host only, as the admin
   * port's operator routes: the aggregates name every user and what they spent, and the
   * all-in-one gateway serves them on its public API port.
   */
  private authorize(request: FastifyRequest): void {
    if (!this.tokenDigest) {
      if (isThisHostCaller(request.raw)) return;
      throw new AnalyticsClosedError(
        'the analytics API answers only this host unless AI_GATEWAY_ANALYTICS_TOKEN is set (then as Bearer)',
      );
    }
    const given = bearerToken(request.headers.authorization) ?? '';
    // Digests, not the tokens: an early return on a length mismatch told callers the length.
    if (!matchesSecretDigest(given, this.tokenDigest)) {
      throw new AnalyticsAccessError('the analytics API needs the operator token (Bearer)');
    }
  }
}
