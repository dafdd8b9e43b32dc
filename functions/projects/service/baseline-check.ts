import type { BaselineOperator } from '../../../drizzle/schema/projects.js';

export interface BaselineRule {
  metric: string;
  operator: BaselineOperator;
  threshold: number;
}

export interface BaselineResult extends BaselineRule {
  value: number | null;
  passed: boolean;
}

export function compare(value: number, operator: BaselineOperator, threshold: number): boolean {
  switch (operator) {
    case '>':
      return value > threshold;
    case '<':
      return value < threshold;
    case '>=':
      return value >= threshold;
    case '<=':
      return value <= threshold;
    case '=':
      return value === threshold;
  }
}

/** Every baseline against a metrics object; a metric that is missing (or not a finite number) fails its rule. */
export function checkBaselines(rules: BaselineRule[], metrics: Record<string, unknown>): { passed: boolean; results: BaselineResult[] } {
  const results = rules.map((rule) => {
    const raw = Object.hasOwn(metrics, rule.metric) ? metrics[rule.metric] : undefined;
    const value = typeof raw === 'number' && Number.isFinite(raw) ? raw : null;
    return { metric: rule.metric, operator: rule.operator, threshold: rule.threshold, value, passed: value !== null && compare(value, rule.operator, rule.threshold) };
  });
  return { passed: results.every((r) => r.passed), results };
}
