/**
 * Test oracle: Microsoft's Kusto.Language (`@kusto/language-service-next`, Bridge.NET build) analyses a
 * query against the same table schemas and reports result column names/types and diagnostics.
 * Loading costs ~0.4 s and the first analysis ~1.5 s, so keep oracle use to few test files.
 */
import type { KqlColumn, KqlTable } from '../../../../emulator/app-insights/kql/index.js';

export interface OracleResult {
  columns: KqlColumn[] | undefined;
  errors: Array<{ code: string; message: string; start: number; length: number; syntax: boolean }>;
}

export interface Oracle {
  analyze(query: string): OracleResult;
}

interface KustoGlobals {
  Kusto: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  Bridge: any; // eslint-disable-line @typescript-eslint/no-explicit-any
}

let loaded: Promise<KustoGlobals> | undefined;

async function load(): Promise<KustoGlobals> {
  await import('@kusto/language-service-next/bridge.min.js' as string);
  await import('@kusto/language-service-next/Kusto.Language.Bridge.min.js' as string);
  const g = globalThis as unknown as KustoGlobals;
  return { Kusto: g.Kusto, Bridge: g.Bridge };
}

export async function createOracle(tables: readonly KqlTable[]): Promise<Oracle> {
  loaded ??= load();
  const { Kusto, Bridge } = await loaded;
  const K = Kusto.Language;
  const symbols = tables.map((t) => {
    const schema = `(${t.columns.map((c) => `['${c.name.replace(/'/g, "\\'")}']:${c.type}`).join(', ')})`;
    return new K.Symbols.TableSymbol.$ctor7(t.name, schema, null);
  });
  const globals = K.GlobalState.Default.WithDatabase(new K.Symbols.DatabaseSymbol.ctor('db', symbols));
  return {
    analyze(query: string): OracleResult {
      const code = K.KustoCode.ParseAndAnalyze(query, globals);
      const syntax = new Set<string>(Bridge.toArray(code.GetSyntaxDiagnostics()).map((d: any) => `${d.Code}@${d.Start}`)); // eslint-disable-line @typescript-eslint/no-explicit-any
      const errors = Bridge.toArray(code.GetDiagnostics())
        .filter((d: any) => d.Severity === 'Error') // eslint-disable-line @typescript-eslint/no-explicit-any
        .map((d: any) => ({ code: d.Code, message: d.Message, start: d.Start, length: d.Length, syntax: syntax.has(`${d.Code}@${d.Start}`) })); // eslint-disable-line @typescript-eslint/no-explicit-any
      const rt = code.ResultType;
      const columns = rt && rt.Columns ? Bridge.toArray(rt.Columns).map((c: any) => ({ name: c.Name, type: c.Type.Name })) : undefined; // eslint-disable-line @typescript-eslint/no-explicit-any
      return { columns, errors };
    },
  };
}
