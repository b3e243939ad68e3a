package ocistore

import (
	"bytes"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestChunksKeepContentWhole: content written in any pieces reads back
// whole, in chunks of at most chunkSize.
func TestChunksKeepContentWhole(t *testing.T) {
	t.Parallel()
	data := make([]byte, 3*chunkSize+12345)
	for i := range data {
		data[i] = byte(i * 7)
	}
	for _, piece := range []int{1, 100, 4 << 10, chunkSize - 1, chunkSize, 5 * chunkSize} {
		c := &chunks{}
		for p := data; len(p) > 0; {
			n := min(piece, len(p))
			w, err := c.Write(p[:n])
			require.NoError(t, err)
			require.Equal(t, n, w)
			p = p[n:]
		}
		assert.Equal(t, int64(len(data)), c.n)
		got, err := io.ReadAll(c.reader())
		require.NoError(t, err)
		assert.True(t, bytes.Equal(data, got), "piece %d", piece)
		for _, part := range c.parts {
			assert.LessOrEqual(t, cap(part), chunkSize)
		}
	}
}
