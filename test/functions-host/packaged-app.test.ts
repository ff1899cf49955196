// The deployed package (`npm run build:package`) loaded as the Functions host's worker loads it, over
// our `@azure/functions-core` stand-in (app-invocations.ts has the suite).
import { packagedApp } from './app-builds';
import { describeAppInvocations } from './app-invocations';

describeAppInvocations('the deployed package', packagedApp);
