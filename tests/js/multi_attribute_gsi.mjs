// A GSI with a multi-attribute key through the AWS SDK for JavaScript v3: the
// SDK sends the four-element KeySchema, DescribeTable returns it, a Query with
// equalities on both HASH attributes and a range test on the second RANGE one
// pages with LastEvaluatedKey, and the gap rule's error reaches the caller.
// Env: ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, TABLE; NODE_EXTRA_CA_CERTS trusts the cert.
import {
  DynamoDBClient, CreateTableCommand, DescribeTableCommand, PutItemCommand, QueryCommand, DeleteTableCommand,
} from "@aws-sdk/client-dynamodb";

const client = new DynamoDBClient({
  endpoint: process.env.ENDPOINT,
  region: process.env.AWS_REGION ?? "us-east-1",
  credentials: { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY },
});
const TableName = process.env.TABLE;
const assert = (cond, msg) => { if (!cond) { throw new Error("assertion failed: " + msg); } };
const KeySchema = [
  { AttributeName: "tenant", KeyType: "HASH" }, { AttributeName: "region", KeyType: "HASH" },
  { AttributeName: "round", KeyType: "RANGE" }, { AttributeName: "score", KeyType: "RANGE" },
];

await client.send(new CreateTableCommand({
  TableName, BillingMode: "PAY_PER_REQUEST",
  AttributeDefinitions: [
    { AttributeName: "id", AttributeType: "S" }, { AttributeName: "tenant", AttributeType: "S" },
    { AttributeName: "region", AttributeType: "S" }, { AttributeName: "round", AttributeType: "S" },
    { AttributeName: "score", AttributeType: "N" },
  ],
  KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
  GlobalSecondaryIndexes: [{ IndexName: "by-tenant", KeySchema, Projection: { ProjectionType: "ALL" } }],
}));
try {
  const desc = await client.send(new DescribeTableCommand({ TableName }));
  assert(JSON.stringify(desc.Table.GlobalSecondaryIndexes[0].KeySchema) === JSON.stringify(KeySchema), "key schema");

  for (let i = 0; i < 12; i++) {
    await client.send(new PutItemCommand({ TableName, Item: {
      id: { S: `m${i}` }, tenant: { S: "t1" }, region: { S: i % 2 ? "eu" : "us" },
      round: { S: i < 6 ? "final" : "semi" }, score: { N: String(100 - i) },
    } }));
  }
  const seen = [];
  let ExclusiveStartKey;
  do {
    const page = await client.send(new QueryCommand({
      TableName, IndexName: "by-tenant", Limit: 2, ExclusiveStartKey,
      KeyConditionExpression: "tenant = :t AND #r = :r AND round = :round AND score > :s",
      ExpressionAttributeNames: { "#r": "region" },
      ExpressionAttributeValues: { ":t": { S: "t1" }, ":r": { S: "eu" }, ":round": { S: "final" }, ":s": { N: "95" } },
    }));
    seen.push(...page.Items.map((item) => item.score.N));
    ExclusiveStartKey = page.LastEvaluatedKey;
    if (ExclusiveStartKey) {
      assert(Object.keys(ExclusiveStartKey).sort().join() === "id,region,round,score,tenant", "LastEvaluatedKey");
    }
  } while (ExclusiveStartKey);
  assert(seen.join() === "97,99", `ascending scores: ${seen}`);

  let failed = null;
  try {
    await client.send(new QueryCommand({
      TableName, IndexName: "by-tenant",
      KeyConditionExpression: "tenant = :t AND #r = :r AND score > :s",
      ExpressionAttributeNames: { "#r": "region" },
      ExpressionAttributeValues: { ":t": { S: "t1" }, ":r": { S: "eu" }, ":s": { N: "1" } },
    }));
  } catch (err) {
    failed = err;
  }
  assert(failed && failed.name === "ValidationException", "gap refused");
  assert(failed.message === "RANGE key attributes round must have equality conditions specified in the query "
    + "because a condition is present on key attribute score", failed.message);
} finally {
  await client.send(new DeleteTableCommand({ TableName }));
}
console.log("js multi-attribute gsi ok");
