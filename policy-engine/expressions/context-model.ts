/**
 * The static shape of APIM's `context` (policies.md §3.3), used at load time to report unknown members
 * (`context.Reqest`) and to type members (`context.Response.StatusCode` is an int). Member values map to a
 * schema type name (another entry here) or a C# type name. A host object may expose more members than listed
 * here only by adding them to this table.
 */
export const CONTEXT_MODEL: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  IProxyRequestContext: {
    Api: 'IApi', Deployment: 'IDeployment', Elapsed: 'TimeSpan', LastError: 'ILastError', Operation: 'IOperation',
    Product: 'IProduct', Request: 'IRequest', RequestId: 'Dynamic', Response: 'IResponse', Subscription: 'ISubscription',
    Timestamp: 'DateTime', Tracing: 'Boolean', User: 'IUser', Variables: 'Variables', Workspace: 'Dynamic',
    Trace: 'method:Void', NamedValue: 'method:String',
  },
  IRequest: {
    Body: 'IMessageBody', Certificate: 'Dynamic', Headers: 'Headers', IpAddress: 'String', MatchedParameters: 'Parameters',
    Method: 'String', OriginalUrl: 'IUrl', Url: 'IUrl', PrivateEndpointConnection: 'Dynamic',
  },
  IResponse: { Body: 'IMessageBody', Headers: 'Headers', StatusCode: 'Int32', StatusReason: 'String' },
  IUrl: {
    Host: 'String', Path: 'String', Port: 'Int32', Query: 'Parameters', QueryString: 'String', Scheme: 'String',
    ToString: 'method:String',
  },
  IApi: {
    Id: 'String', Name: 'String', Path: 'String', Protocols: 'Dynamic', ServiceUrl: 'IUrl', SubscriptionKeyParameterNames: 'Dynamic',
    Version: 'String', Revision: 'String', IsCurrentRevision: 'Boolean', Type: 'Dynamic', Workspace: 'Dynamic',
  },
  IOperation: { Id: 'String', Method: 'String', Name: 'String', UrlTemplate: 'String' },
  IProduct: {
    Apis: 'Dynamic', ApprovalRequired: 'Boolean', Groups: 'Dynamic', Id: 'String', Name: 'String', State: 'Dynamic',
    SubscriptionLimit: 'Dynamic', SubscriptionRequired: 'Boolean', Workspace: 'Dynamic',
  },
  ISubscription: {
    CreatedDate: 'DateTime', EndDate: 'Dynamic', Id: 'String', Key: 'String', Name: 'String', PrimaryKey: 'String',
    SecondaryKey: 'String', StartDate: 'Dynamic',
  },
  IUser: {
    Email: 'String', FirstName: 'String', Groups: 'Dynamic', Id: 'String', Identities: 'Dynamic', LastName: 'String',
    Note: 'String', RegistrationDate: 'DateTime',
  },
  IDeployment: {
    GatewayId: 'String', Region: 'String', ServiceId: 'String', ServiceName: 'String', Certificates: 'Dynamic', Gateway: 'Dynamic',
    SustainabilityInfo: 'Dynamic',
  },
  ILastError: {
    Source: 'String', Reason: 'String', Message: 'String', Scope: 'String', Section: 'String', Path: 'String', PolicyId: 'String',
  },
  IMessageBody: { As: 'method:Generic', AsFormUrlEncodedContent: 'method:Parameters' },
  Headers: {
    GetValueOrDefault: 'method:String', ContainsKey: 'method:Boolean', TryGetValue: 'method:Boolean', Count: 'Int32',
    Keys: 'Dynamic', Values: 'Dynamic',
  },
  Variables: {
    GetValueOrDefault: 'method:GenericOrObject', ContainsKey: 'method:Boolean', TryGetValue: 'method:Boolean', Count: 'Int32',
    Keys: 'Dynamic', Values: 'Dynamic',
  },
  Parameters: {
    GetValueOrDefault: 'method:String', ContainsKey: 'method:Boolean', TryGetValue: 'method:Boolean', Count: 'Int32',
    Keys: 'Dynamic', Values: 'Dynamic',
  },
};

/** Indexer result types of schema types. */
export const CONTEXT_INDEXERS: Readonly<Record<string, string>> = {
  Headers: 'String[]',
  Variables: 'Object',
  Parameters: 'Dynamic',
};

/** Schema types that are enumerable (LINQ allowed). */
export const CONTEXT_ENUMERABLE: ReadonlySet<string> = new Set(['Headers', 'Variables', 'Parameters']);
