package app

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

// TestDiskReserve walks the reserve through a full disk: set aside at open, freed once for a
// delete, writes refused while the disk has less than twice the reserve free, set aside again
// when it has, and found again by the next open.
func TestDiskReserve(t *testing.T) {
	free := int64(1 << 40)
	diskFree = func(string) (int64, error) { return free, nil }
	t.Cleanup(func() { diskFree = freeBytes })
	dir := t.TempDir()
	path := filepath.Join(dir, reserveFile)
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			return -1
		}
		return fi.Size()
	}
	r := openReserve(dir, slog.New(slog.DiscardHandler))
	if !r.Writable() || size() != reserveSize {
		t.Fatalf("after open: writable %v, reserve of %d bytes", r.Writable(), size())
	}
	free = 0
	if !r.Writable() {
		t.Fatal("a held reserve refuses writes")
	}
	if !r.Release() || size() != -1 {
		t.Fatalf("release: reserve of %d bytes left", size())
	}
	if r.Release() {
		t.Fatal("released twice")
	}
	free = 2*reserveSize - 1
	if r.Writable() || size() != -1 {
		t.Fatalf("with %d bytes free: writable %v, reserve of %d bytes", free, r.Writable(), size())
	}
	free = 2 * reserveSize
	if !r.Writable() || size() != reserveSize {
		t.Fatalf("with %d bytes free: writable %v, reserve of %d bytes", free, r.Writable(), size())
	}
	free = 0
	if r2 := openReserve(dir, slog.New(slog.DiscardHandler)); !r2.Writable() {
		t.Fatal("the next open does not find the reserve")
	}
	// A disk too full to set the reserve aside opens with writes refused.
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(path+".tmp", 0o755); err != nil { // the temp name cannot be created
		t.Fatal(err)
	}
	if r3 := openReserve(dir, slog.New(slog.DiscardHandler)); r3.Writable() {
		t.Fatal("no reserve, no free space, yet writable")
	}
}
