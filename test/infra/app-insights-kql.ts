/**
 * Semantic analysis of Application Insights queries with Microsoft's own KQL analyzer
 * (`@kusto/language-service-next`, see tools/arm-emulator/kql.ts), against the classic Application Insights
 * tables the alerts and the workbook query. Columns: the classic schema of `customMetrics` and `traces`
 * (Learn, azure-monitor/app/convert-classic-resource "Table structure", which maps them to the
 * workspace tables AppMetrics and AppTraces; AppMetrics' columns are in azure-monitor/reference/tables/appmetrics).
 */
import { kustoLanguage } from '../../tools/arm-emulator/kql';

const COMMON =
  'timestamp: datetime, customDimensions: dynamic, operation_Name: string, operation_Id: string, operation_ParentId: string, ' +
  'operation_SyntheticSource: string, session_Id: string, user_Id: string, user_AuthenticatedId: string, user_AccountId: string, ' +
  'application_Version: string, client_Type: string, client_Model: string, client_OS: string, client_IP: string, client_City: string, ' +
  'client_StateOrProvince: string, client_CountryOrRegion: string, client_Browser: string, cloud_RoleName: string, ' +
  'cloud_RoleInstance: string, appId: string, appName: string, iKey: string, sdkVersion: string, itemId: string, itemType: string, itemCount: int';

const TABLES: Record<string, string> = {
  customMetrics: `(name: string, value: real, valueCount: int, valueSum: real, valueMin: real, valueMax: real, valueStdDev: real, ${COMMON})`,
  traces: `(message: string, severityLevel: int, customMeasurements: dynamic, ${COMMON})`,
};

let globals: any;
function appInsightsGlobals(): any {
  if (globals) return globals;
  const K = kustoLanguage();
  const S = K.Symbols;
  const tables = Object.entries(TABLES).map(([name, schema]) => S.TableSymbol.From(schema).WithName(name));
  const System = (globalThis as any).System;
  const members = new (System.Collections.Generic.List$1(S.Symbol).$ctor1)(tables);
  globals = K.GlobalState.Default.WithDatabase(new S.DatabaseSymbol.$ctor3('appinsights', null, members, false));
  return globals;
}

/** Every diagnostic (syntax and semantics: unknown tables, columns, functions, wrong types) of a query. */
export function appInsightsQueryDiagnostics(query: string): string[] {
  const code = kustoLanguage().KustoCode.ParseAndAnalyze(query, appInsightsGlobals());
  const list = code.GetDiagnostics();
  const out: string[] = [];
  for (let i = 0; i < list.Count; i++) {
    const d = list.getItem(i);
    out.push(`${d.Code} at ${d.Start}: ${d.Message}`);
  }
  return out;
}
