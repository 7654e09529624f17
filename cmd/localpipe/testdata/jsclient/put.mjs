// Puts and reads back one record with the SDK's default Kinesis handler, which is HTTP/2
// (NodeHttp2Handler), and prints what it read as JSON.
import { KinesisClient, CreateStreamCommand, PutRecordCommand, GetShardIteratorCommand, GetRecordsCommand } from "@aws-sdk/client-kinesis";

const endpoint = process.argv[2];
const client = new KinesisClient({
  endpoint,
  region: "us-east-1",
  credentials: { accessKeyId: "test", secretAccessKey: "test" },
});
await client.send(new CreateStreamCommand({ StreamName: "js", ShardCount: 1 }));
const put = await client.send(new PutRecordCommand({ StreamName: "js", PartitionKey: "k", Data: new TextEncoder().encode("from javascript") }));
const it = await client.send(new GetShardIteratorCommand({ StreamName: "js", ShardId: put.ShardId, ShardIteratorType: "TRIM_HORIZON" }));
const got = await client.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator }));
console.log(JSON.stringify({
  handler: client.config.requestHandler.constructor.name,
  sequenceNumber: put.SequenceNumber,
  data: new TextDecoder().decode(got.Records[0].Data),
}));
client.destroy();
