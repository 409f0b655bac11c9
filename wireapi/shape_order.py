"""The order in which DynamoDB checks request members and lists enum values.

Coral walks members in the order of its own (hash-map based) model, not the
order of the published JSON model; these orders were observed against the
service (as recorded by dynalite's tests). Members not listed keep botocore's
order, after the listed ones.
"""
from __future__ import annotations

MEMBER_ORDER: dict[str, tuple[str, ...]] = {
    "BatchGetItem": ("ReturnConsumedCapacity", "RequestItems",),
    "BatchWriteItem": ("ReturnConsumedCapacity", "ReturnItemCollectionMetrics", "RequestItems",),
    "CreateTable": ("AttributeDefinitions", "TableName", "BillingMode", "ProvisionedThroughput", "KeySchema", "LocalSecondaryIndexes", "GlobalSecondaryIndexes",),
    "DeleteItem": ("ReturnConsumedCapacity", "TableName", "ReturnValues", "ReturnItemCollectionMetrics", "Key", "ConditionalOperator", "Expected", "ConditionExpression", "ExpressionAttributeValues", "ExpressionAttributeNames",),
    "DeleteTable": ("TableName",),
    "DescribeTable": ("TableName",),
    "DescribeTimeToLive": ("TableName",),
    "GetItem": ("ReturnConsumedCapacity", "AttributesToGet", "TableName", "Key", "ConsistentRead", "ProjectionExpression", "ExpressionAttributeNames",),
    "ListTables": ("Limit", "ExclusiveStartTableName",),
    "ListTagsOfResource": ("ResourceArn",),
    "PutItem": ("ReturnConsumedCapacity", "TableName", "Item", "ConditionalOperator", "Expected", "ReturnValues", "ReturnItemCollectionMetrics", "ConditionExpression", "ExpressionAttributeValues", "ExpressionAttributeNames",),
    "Query": ("Select", "IndexName", "ReturnConsumedCapacity", "QueryFilter", "TableName", "ConditionalOperator", "AttributesToGet", "Limit", "KeyConditions", "ExclusiveStartKey", "ConsistentRead", "ScanIndexForward", "KeyConditionExpression", "FilterExpression", "ProjectionExpression", "ExpressionAttributeValues", "ExpressionAttributeNames",),
    "Scan": ("Select", "IndexName", "TotalSegments", "ReturnConsumedCapacity", "TableName", "ConditionalOperator", "ScanFilter", "Segment", "Limit", "AttributesToGet", "ExclusiveStartKey", "FilterExpression", "ProjectionExpression", "ExpressionAttributeValues", "ExpressionAttributeNames",),
    "TagResource": ("ResourceArn", "Tags",),
    "UntagResource": ("ResourceArn", "TagKeys",),
    "UpdateItem": ("ReturnConsumedCapacity", "TableName", "ReturnItemCollectionMetrics", "ReturnValues", "Key", "ConditionalOperator", "Expected", "AttributeUpdates", "ConditionExpression", "UpdateExpression", "ExpressionAttributeValues", "ExpressionAttributeNames",),
    "UpdateTable": ("TableName", "ProvisionedThroughput", "BillingMode", "GlobalSecondaryIndexUpdates",),
    "KeysAndAttributes": ("Keys", "AttributesToGet", "ConsistentRead", "ProjectionExpression", "ExpressionAttributeNames",),
    "WriteRequest": ("DeleteRequest", "PutRequest",),
    "DeleteRequest": ("Key",),
    "PutRequest": ("Item",),
    "AttributeDefinition": ("AttributeName", "AttributeType",),
    "ProvisionedThroughput": ("WriteCapacityUnits", "ReadCapacityUnits",),
    "KeySchemaElement": ("AttributeName", "KeyType",),
    "LocalSecondaryIndex": ("IndexName", "KeySchema", "Projection",),
    "Projection": ("ProjectionType", "NonKeyAttributes",),
    "GlobalSecondaryIndex": ("IndexName", "KeySchema", "Projection", "ProvisionedThroughput",),
    "ExpectedAttributeValue": ("AttributeValueList", "ComparisonOperator", "Exists", "Value",),
    "Condition": ("AttributeValueList", "ComparisonOperator",),
    "Tag": ("Key", "Value",),
    "AttributeValueUpdate": ("Action", "Value",),
    "GlobalSecondaryIndexUpdate": ("Update", "Create", "Delete",),
    "UpdateGlobalSecondaryIndexAction": ("IndexName", "ProvisionedThroughput",),
    "CreateGlobalSecondaryIndexAction": ("Projection", "IndexName", "ProvisionedThroughput", "KeySchema",),
    "DeleteGlobalSecondaryIndexAction": ("IndexName",),
}

ENUM_ORDER: dict[str, tuple[str, ...]] = {
    "ReturnConsumedCapacity": ("INDEXES", "TOTAL", "NONE",),
    "ReturnItemCollectionMetrics": ("SIZE", "NONE",),
    "AttributeType": ("B", "N", "S",),
    "BillingMode": ("PROVISIONED", "PAY_PER_REQUEST",),
    "KeyType": ("HASH", "RANGE",),
    "ProjectionType": ("ALL", "INCLUDE", "KEYS_ONLY",),
    "ReturnValues": ("ALL_NEW", "UPDATED_OLD", "ALL_OLD", "NONE", "UPDATED_NEW",),
    "ConditionalOperator": ("OR", "AND",),
    "ComparisonOperator": ("IN", "NULL", "BETWEEN", "LT", "NOT_CONTAINS", "EQ", "GT", "NOT_NULL", "NE", "LE", "BEGINS_WITH", "GE", "CONTAINS",),
    "Select": ("SPECIFIC_ATTRIBUTES", "COUNT", "ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES",),
}
