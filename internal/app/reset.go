package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	"github.com/localpipe/localpipe/firehose"
	"github.com/localpipe/localpipe/objectstore"
	"github.com/localpipe/localpipe/stream"
)

// Reset deletes every resource and all their data (delivery streams, streams, buckets with
// their objects, REST APIs and API keys), then applies the --config file as at start. The
// ids generated for the config's APIs are kept, so invoke URLs stay the same. Requests
// arriving meanwhile meet a pipeline half gone or half re-created, as they would meet one
// being torn down by API calls.
func (a *App) Reset(ctx context.Context) error {
	a.resetMu.Lock()
	defer a.resetMu.Unlock()
	// Channels and Firehose first: they read streams and write buckets, and deleting a
	// delivery stream removes its hidden buffer stream too.
	if err := a.channels.reset(); err != nil {
		return fmt.Errorf("kinesis channels: %w", err)
	}
	for _, in := range a.fh.List() {
		if err := a.fh.Delete(in.Name); err != nil && !errors.Is(err, firehose.ErrNotFound) {
			return fmt.Errorf("delivery stream %s: %w", in.Name, err)
		}
	}
	for _, st := range a.streams.List() {
		if err := a.streams.DeleteStreamNow(st.Name); err != nil && !errors.Is(err, stream.ErrStreamNotFound) {
			return fmt.Errorf("stream %s: %w", st.Name, err)
		}
		a.kinesis.Forget(st.Name)
	}
	buckets, err := a.objects.ListBuckets(ctx)
	if err != nil {
		return err
	}
	for _, b := range buckets {
		if err := a.emptyBucket(ctx, b.Name); err != nil {
			return fmt.Errorf("bucket %s: %w", b.Name, err)
		}
		if err := a.objects.DeleteBucket(ctx, b.Name); err != nil && !errors.Is(err, objectstore.ErrNoSuchBucket) {
			return fmt.Errorf("bucket %s: %w", b.Name, err)
		}
	}
	if err := a.gw.Reset(); err != nil {
		return fmt.Errorf("apigateway: %w", err)
	}
	// Faults declared at run time go with the state they were declared against; the config's
	// come back with its resources, after them, as at start.
	a.RemoveFaults()
	// Traces name records and objects that are gone, at positions the new streams reuse.
	a.trace.Clear()
	a.logger.Info("reset: every resource and fault deleted; applying the config again")
	if a.res != nil {
		if err := a.apply(a.res); err != nil {
			return err
		}
	}
	if _, err := a.faults.add(a.configFaults); err != nil {
		return err
	}
	return nil
}

// emptyBucket deletes every object, every version and delete marker, and every multipart
// upload in progress of bucket. Each pass lists from the start, since what it deletes is
// gone from the next listing.
func (a *App) emptyBucket(ctx context.Context, bucket string) error {
	for {
		vers, err := a.objects.ListVersions(ctx, bucket, objectstore.ListVersionsInput{MaxKeys: 1000})
		if err != nil {
			return err
		}
		for _, v := range vers.Versions {
			id := v.VersionID
			if id == "" {
				id = objectstore.NullVersion
			}
			if _, err := a.objects.DeleteObjectVersion(ctx, bucket, v.Key, id); err != nil {
				return err
			}
		}
		objs, err := a.objects.List(ctx, bucket, objectstore.ListInput{MaxKeys: 1000})
		if err != nil {
			return err
		}
		for _, o := range objs.Objects {
			if err := a.objects.DeleteObject(ctx, bucket, o.Key); err != nil && !errors.Is(err, objectstore.ErrNoSuchKey) {
				return err
			}
		}
		if len(vers.Versions) == 0 && len(objs.Objects) == 0 {
			break
		}
	}
	for {
		ups, err := a.objects.ListMultipartUploads(ctx, bucket, objectstore.ListUploadsInput{})
		if err != nil {
			return err
		}
		for _, u := range ups.Uploads {
			if err := a.objects.AbortMultipartUpload(ctx, bucket, u.Key, u.UploadID); err != nil {
				return err
			}
		}
		if len(ups.Uploads) == 0 {
			return nil
		}
	}
}

// serveReset answers POST /_localpipe/reset: 200 once everything is deleted and the config
// applied again.
func (a *App) serveReset(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		w.WriteHeader(http.StatusMethodNotAllowed)
		w.Write([]byte(`{"message":"use POST"}` + "\n"))
		return
	}
	status, out := http.StatusOK, map[string]string{"status": "reset"}
	if err := a.Reset(r.Context()); err != nil {
		// The error may name files in the data dir; the answer names none, the log has it.
		a.logger.Error("admin: reset failed", "err", err)
		status, out = http.StatusInternalServerError, map[string]string{"message": "the reset failed; the localpipe log says why"}
	}
	body, _ := json.Marshal(out)
	w.WriteHeader(status)
	w.Write(append(body, '\n'))
}
