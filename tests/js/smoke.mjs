// The snippet a user copies from the README, then a table and item round trip.
// Env: ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, TABLE; NODE_EXTRA_CA_CERTS trusts the cert.
import {
  DynamoDBClient, CreateTableCommand, PutItemCommand, GetItemCommand, UpdateItemCommand,
  DeleteItemCommand, DeleteTableCommand, DescribeTableCommand,
} from "@aws-sdk/client-dynamodb";

const client = new DynamoDBClient({
  endpoint: process.env.ENDPOINT,
  region: process.env.AWS_REGION ?? "us-east-1",
  credentials: {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID,
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,
  },
});

const TableName = process.env.TABLE;
const assert = (cond, msg) => { if (!cond) { throw new Error("assertion failed: " + msg); } };

await client.send(new CreateTableCommand({
  TableName,
  AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
  KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
  BillingMode: "PAY_PER_REQUEST",
}));
const desc = await client.send(new DescribeTableCommand({ TableName }));
assert(desc.Table.TableStatus === "ACTIVE", "table active");

await client.send(new PutItemCommand({
  TableName, Item: { id: { S: "js" }, n: { N: "41" }, b: { B: new Uint8Array([1, 2, 3]) } },
}));
await client.send(new UpdateItemCommand({
  TableName, Key: { id: { S: "js" } }, UpdateExpression: "ADD n :one",
  ExpressionAttributeValues: { ":one": { N: "1" } },
}));
const got = await client.send(new GetItemCommand({ TableName, Key: { id: { S: "js" } }, ConsistentRead: true }));
assert(got.Item.n.N === "42", "counter incremented");
assert(Buffer.from(got.Item.b.B).equals(Buffer.from([1, 2, 3])), "binary round trip");

let failed = null;
try {
  await client.send(new PutItemCommand({ TableName, Item: { id: { S: "js" } }, ConditionExpression: "attribute_not_exists(id)" }));
} catch (err) { failed = err; }
assert(failed && failed.name === "ConditionalCheckFailedException", "conditional failure surfaces by name");

await client.send(new DeleteItemCommand({ TableName, Key: { id: { S: "js" } } }));
await client.send(new DeleteTableCommand({ TableName }));
console.log("js smoke ok");
