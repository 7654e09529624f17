package firehose

import "time"

// Delivery is one batch written to S3, as Options.OnDelivered receives it.
type Delivery struct {
	DeliveryStream string
	Bucket         string
	Keys           []string
	Records        int
	Bytes          int64
	// Trigger is what sent the batch: size, interval, flush, shutdown, retry or redo.
	Trigger string
	Time    time.Time
}
