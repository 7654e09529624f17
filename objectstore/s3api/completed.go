package s3api

import (
	"sync"

	"github.com/localpipe/localpipe/objectstore"
)

// S3 answers a CompleteMultipartUpload repeated after it succeeded (an SDK retrying a
// response it lost) with 200 and the same object, not NoSuchUpload. The store forgets an
// upload when it completes, so the handler remembers the last completions it answered.

const rememberCompletions = 1024

type completion struct {
	bucket, key string
	info        objectstore.ObjectInfo
}

type completedUploads struct {
	mu    sync.Mutex
	byID  map[string]completion
	order []string // oldest first, at most rememberCompletions
}

func (c *completedUploads) add(uploadID string, info objectstore.ObjectInfo) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.byID == nil {
		c.byID = map[string]completion{}
	}
	if len(c.order) == rememberCompletions {
		delete(c.byID, c.order[0])
		c.order = c.order[1:]
	}
	c.byID[uploadID] = completion{bucket: info.Bucket, key: info.Key, info: info}
	c.order = append(c.order, uploadID)
}

// get is the object a completed upload made, if it completed on bucket/key lately.
func (c *completedUploads) get(uploadID, bucket, key string) (objectstore.ObjectInfo, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	done, ok := c.byID[uploadID]
	if !ok || done.bucket != bucket || done.key != key {
		return objectstore.ObjectInfo{}, false
	}
	return done.info, true
}
