package firehose

// CheckPrefixes applies the rules AWS applies to an S3 destination's Prefix and
// ErrorOutputPrefix at CreateDeliveryStream and UpdateDestination, and returns an error whose
// text is AWS's message (the wire layer answers it as InvalidArgumentException).
// partitioned says whether dynamic partitioning is enabled.
func CheckPrefixes(prefix, errorPrefix string, partitioned bool) error {
	return nil // contract only: the engine work fills this in
}
