/**
 * The state of one SQL statement being built: its parameters (every value that came
 * from a request travels as $n, never as SQL text), fresh aliases, and who is asking.
 */

/** One catalog metric as SensorThings shows it (from api/sta/vocabulary.ts). */
export interface StaMetric {
  id: string;
  public: boolean;
  category: string;
  observedPropertyId: number;
  name: string;
  description: string;
  definition: string;
  unitName: string;
  unitSymbol: string;
  unitDefinition: string;
  min: number;
  max: number;
}

export class SqlContext {
  readonly values: unknown[] = [];
  /** The SQL type of each parameter, declared once at the head of the statement (paramTypes). */
  readonly types: string[] = [];
  private aliasCount = 0;
  private metricsParam: string | null = null;

  constructor(
    /** Operator or admin key: every asset and metric; anonymous: the open-data rules. */
    readonly all: boolean,
    /** Hourly and daily Datastreams read the continuous aggregates. */
    readonly timescale: boolean,
    readonly metrics: readonly StaMetric[],
  ) {}

  /** A parameter placeholder with an explicit type, so PostgreSQL never guesses. */
  param(value: unknown, type: string): string {
    this.values.push(value);
    this.types.push(type);
    return `$${this.values.length}::${type}`;
  }

  /**
   * The statement with every parameter's type declared up front, in a CTE nothing reads:
   * a parameter the compiler allocated but the final text no longer uses (a folded
   * constant) would otherwise leave PostgreSQL unable to infer its type.
   */
  statement(text: string): string {
    if (this.types.length === 0) return text;
    return `with sta_parameters as (select ${this.types.map((t, i) => `$${i + 1}::${t}`).join(', ')}) ${text}`;
  }

  alias(prefix: string): string {
    return `${prefix}${++this.aliasCount}`;
  }

  /**
   * The catalog as a relation (id, public, name, …), from one jsonb parameter: the
   * catalog lives in code, and passing it keeps the database free of a copy to sync.
   */
  metricsRelation(): string {
    this.metricsParam ??= this.param(JSON.stringify(this.metrics.map((m) => ({
      id: m.id, public: m.public, category: m.category, op_id: m.observedPropertyId, name: m.name, description: m.description,
      definition: m.definition, unit_name: m.unitName, unit_symbol: m.unitSymbol, unit_definition: m.unitDefinition,
    }))), 'jsonb');
    return `(select * from jsonb_to_recordset(${this.metricsParam}) as m(id text, public boolean, category text, op_id bigint, name text,
      description text, definition text, unit_name text, unit_symbol text, unit_definition text))`;
  }
}
