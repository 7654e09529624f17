package objectstore

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
)

type fullDisk struct{ released int }

func (*fullDisk) Writable() bool  { return false }
func (d *fullDisk) Release() bool { d.released++; return false }

// TestFullDisk: while the guard says the disk is full, every write that takes space fails
// with ErrNoSpace and leaves no file behind, and deletes still work.
func TestFullDisk(t *testing.T) {
	s := open(t, t.TempDir())
	if err := s.CreateBucket(ctx, "bkt", "us-east-1"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateBucket(ctx, "empty", "us-east-1"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PutObject(ctx, "bkt", "k", strings.NewReader("kept"), ObjectMeta{}); err != nil {
		t.Fatal(err)
	}
	up, err := s.CreateMultipartUpload(ctx, "bkt", "m", ObjectMeta{})
	if err != nil {
		t.Fatal(err)
	}
	s.space = &fullDisk{}
	for name, err := range map[string]error{
		"CreateBucket":            s.CreateBucket(ctx, "new", "us-east-1"),
		"PutObject":               second(s.PutObject(ctx, "bkt", "k2", strings.NewReader("x"), ObjectMeta{})),
		"CreateMultipartUpload":   second(s.CreateMultipartUpload(ctx, "bkt", "m2", ObjectMeta{})),
		"UploadPart":              second(s.UploadPart(ctx, "bkt", "m", up.UploadID, 1, strings.NewReader("x"), nil, nil)),
		"CompleteMultipartUpload": second(s.CompleteMultipartUpload(ctx, "bkt", "m", up.UploadID, nil)),
	} {
		if !errors.Is(err, ErrNoSpace) {
			t.Errorf("%s on a full disk: %v, want ErrNoSpace", name, err)
		}
	}
	if files := blobFiles(t, s); len(files) != 1 {
		t.Errorf("blob files after refused writes: %v", files)
	}
	if got := read(t, s, "bkt", "k"); got != "kept" {
		t.Errorf("object: %q", got)
	}
	if err := s.AbortMultipartUpload(ctx, "bkt", "m", up.UploadID); err != nil {
		t.Error(err)
	}
	if err := s.DeleteObject(ctx, "bkt", "k"); err != nil {
		t.Error(err)
	}
	if err := s.DeleteBucket(ctx, "empty"); err != nil {
		t.Error(err)
	}
}

func second[T any](_ T, err error) error { return err }

// TestIsNoSpace: a full disk is recognised however it reaches the store, wrapped or, as bbolt
// words some of its errors, only in the text; nothing else is.
func TestIsNoSpace(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&os.PathError{Op: "write", Path: "/x", Err: syscall.ENOSPC}, true},
		{fmt.Errorf("commit: %w", syscall.EDQUOT), true},
		{fmt.Errorf("file resize error: %s", syscall.ENOSPC), true},
		{nil, false},
		{&os.PathError{Op: "write", Path: "/x", Err: syscall.EIO}, false},
		{ErrNoSuchKey, false},
	} {
		if got := isNoSpace(tc.err); got != tc.want {
			t.Errorf("isNoSpace(%v) = %v", tc.err, got)
		}
		if got := errors.Is(open(t, t.TempDir()).spaceErr(tc.err), ErrNoSpace); got != tc.want {
			t.Errorf("spaceErr(%v) is ErrNoSpace: %v", tc.err, got)
		}
	}
}
