// Turns validated `userTiers` entries into UserTierConfig.
import { type PathSegment } from '../domain/config-issue';
import { type TierTokenBudget, type UserTierConfig } from '../domain/gateway-config';
import { type UserTierDto } from '../schema/user-tier.dto';
import { type DocumentContext, type LoadReport } from './report';

export function normalizeUserTiers(
  dtos: readonly UserTierDto[],
  base: readonly PathSegment[],
  doc: DocumentContext,
  report: LoadReport,
): UserTierConfig[] {
  const names = new Set<string>();
  const selectors = new Map<string, string>();
  let defaultTier: string | undefined;
  const tiers: UserTierConfig[] = [];
  dtos.forEach((dto, index) => {
    const path = [...base, index];
    if (names.has(dto.name)) report.error(doc, [...path, 'name'], `duplicate tier "${dto.name}"`);
    names.add(dto.name);
    const selectorKey = `${dto.selector.header.toLowerCase()}=${dto.selector.value}`;
    const clash = selectors.get(selectorKey);
    if (clash !== undefined) {
      report.error(doc, [...path, 'selector'], `selects the same requests as tier "${clash}"`);
    }
    selectors.set(selectorKey, dto.name);
    // A second default is reported here and not carried on, so the cross-document check
    // in load-config does not report it again.
    const isDefault = dto.default === true && defaultTier === undefined;
    if (dto.default === true && defaultTier !== undefined) {
      report.error(
        doc,
        [...path, 'default'],
        `tier "${defaultTier}" is already the default: at most one tier may set default: true`,
      );
    }
    if (isDefault) defaultTier = dto.name;
    const budget = tierBudget(dto, [...path, 'tokenBudget'], doc, report);
    if (!budget) return;
    tiers.push({
      name: dto.name,
      selector: { header: dto.selector.header.toLowerCase(), value: dto.selector.value },
      tokenBudget: budget,
      allowedModels: dto.allowedModels ?? [],
      costTracking: {
        enabled: dto.costTracking?.enabled ?? dto.costTracking !== undefined,
        ...(dto.costTracking?.alertThreshold === undefined
          ? {}
          : { alertThreshold: dto.costTracking.alertThreshold }),
      },
      default: isDefault,
      clientSelectable: dto.clientSelectable === true,
    });
  });
  return tiers;
}

function tierBudget(
  dto: UserTierDto,
  path: readonly PathSegment[],
  doc: DocumentContext,
  report: LoadReport,
): TierTokenBudget | undefined {
  const { daily, unlimited } = dto.tokenBudget;
  if (unlimited === true && daily !== undefined) {
    report.error(doc, path, 'expected either daily or unlimited: true, not both');
    return undefined;
  }
  if (unlimited === true) return { kind: 'unlimited' };
  if (daily !== undefined) return { kind: 'daily', tokens: daily };
  report.error(doc, path, 'expected {daily: <tokens>} or {unlimited: true}');
  return undefined;
}
