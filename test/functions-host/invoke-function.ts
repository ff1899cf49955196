// One invocation as the worker runs it, through the library's own InvocationModel: getArguments
// turns the RPC request (inputData, triggerMetadata) into the handler's arguments, invokeFunction
// calls the handler, getResponse turns its result into the RPC response (returnValue, outputData).
// The status is ours to set, as it is the worker's: failure when any step throws, with its message.
import type { CoreInvocationContext, CoreStandIn } from './core-stand-in';
import type { InvocationRequest, InvocationResponse, RpcLog } from './rpc';

export interface Invocation {
  response: InvocationResponse;
  /** What the library logged for this invocation: the handler's context.log calls ('user') and its own ('system'). */
  logs: RpcLog[];
}

export async function invokeFunction(core: CoreStandIn, request: InvocationRequest): Promise<Invocation> {
  const logs: RpcLog[] = [];
  try {
    const fn = core.functions.get(request.functionId);
    if (!fn) throw new Error(`no function with id ${request.functionId} is registered`);
    if (!core.programmingModel) throw new Error('the app never set a programming model');
    const context: CoreInvocationContext = {
      invocationId: request.invocationId,
      request,
      metadata: fn.metadata,
      log: (level, logCategory, message) => logs.push({ invocationId: request.invocationId, level, logCategory, message }),
    };
    const invocationModel = core.programmingModel.getInvocationModel(context);
    const { context: handlerContext, inputs } = await invocationModel.getArguments();
    context.state = 'invocation';
    const result = await invocationModel.invokeFunction(handlerContext, inputs, fn.handler).finally(() => (context.state = undefined));
    const response = await invocationModel.getResponse(handlerContext, result);
    return { response: { ...response, result: { status: 'success' } }, logs };
  } catch (error) {
    const exception = error instanceof Error ? { message: error.message, stackTrace: error.stack } : { message: String(error) };
    return { response: { invocationId: request.invocationId, result: { status: 'failure', exception } }, logs };
  }
}
