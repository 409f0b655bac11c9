// Issue 13's fidelity fixes as the AWS SDK for JavaScript v3 sees them: an
// UpdateItem of only REMOVE creates nothing, a bad key in a transaction is a
// ValidationError cancellation reason, TagResource's empty body parses,
// ItemCollectionMetrics on an LSI table, and a signature for another region
// is refused. Env: ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_REGION,
// TABLE; NODE_EXTRA_CA_CERTS trusts the cert.
import {
  DynamoDBClient, CreateTableCommand, DeleteTableCommand, GetItemCommand, ListTablesCommand, PutItemCommand,
  TagResourceCommand, TransactWriteItemsCommand, UpdateItemCommand, ListTagsOfResourceCommand,
} from "@aws-sdk/client-dynamodb";

const credentials = { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY };
const region = process.env.AWS_REGION ?? "us-east-1";
const client = new DynamoDBClient({ endpoint: process.env.ENDPOINT, region, credentials });
const TableName = process.env.TABLE;
const assert = (cond, msg) => { if (!cond) { throw new Error("assertion failed: " + msg); } };
const refusal = async (command, c = client) => {
  try { await c.send(command); } catch (err) { return err; }
  throw new Error("assertion failed: no error");
};

const created = await client.send(new CreateTableCommand({
  TableName, BillingMode: "PAY_PER_REQUEST",
  AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }, { AttributeName: "sk", AttributeType: "S" },
                         { AttributeName: "l", AttributeType: "S" }],
  KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }, { AttributeName: "sk", KeyType: "RANGE" }],
  LocalSecondaryIndexes: [{ IndexName: "by-l", Projection: { ProjectionType: "KEYS_ONLY" },
                            KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }, { AttributeName: "l", KeyType: "RANGE" }] }],
}));
try {
  const Key = { pk: { S: "gone" }, sk: { S: "1" } };
  const out = await client.send(new UpdateItemCommand({ TableName, Key, UpdateExpression: "REMOVE a", ReturnValues: "ALL_NEW" }));
  assert(out.Attributes === undefined, "REMOVE on a missing item returns no Attributes");
  assert((await client.send(new GetItemCommand({ TableName, Key, ConsistentRead: true }))).Item === undefined,
         "REMOVE on a missing item creates nothing");

  const put = await client.send(new PutItemCommand({
    TableName, Item: { pk: { S: "a" }, sk: { S: "1" }, l: { S: "x" } }, ReturnItemCollectionMetrics: "SIZE" }));
  assert(put.ItemCollectionMetrics.ItemCollectionKey.pk.S === "a", "ItemCollectionKey");
  assert(JSON.stringify(put.ItemCollectionMetrics.SizeEstimateRangeGB) === "[0,1]", "SizeEstimateRangeGB");

  const err = await refusal(new TransactWriteItemsCommand({ TransactItems: [
    { Put: { TableName, Item: { pk: { S: "b" }, sk: { S: "1" } } } },
    { Delete: { TableName, Key: { pk: { S: "b" } } } },
  ] }));
  assert(err.name === "TransactionCanceledException", "cancelled, not " + err.name);
  assert(JSON.stringify(err.CancellationReasons.map((r) => r.Code)) === '["None","ValidationError"]',
         "reasons " + JSON.stringify(err.CancellationReasons));

  const ResourceArn = created.TableDescription.TableArn;
  await client.send(new TagResourceCommand({ ResourceArn, Tags: [{ Key: "k", Value: "v" }] }));
  const tags = await client.send(new ListTagsOfResourceCommand({ ResourceArn }));
  assert(tags.Tags.length === 1 && tags.Tags[0].Key === "k", "tagged");

  const elsewhere = new DynamoDBClient({ endpoint: process.env.ENDPOINT, region: "eu-west-1", credentials });
  const wrong = await refusal(new ListTablesCommand({}), elsewhere);
  assert(wrong.name === "InvalidSignatureException", "wrong region refused, not " + wrong.name);
  assert(wrong.message === "Credential should be scoped to a valid region, not 'eu-west-1'.", wrong.message);
} finally {
  await client.send(new DeleteTableCommand({ TableName }));
}
console.log("js fidelity ok");
