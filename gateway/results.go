package gateway

import (
	"context"

	"github.com/chorus-hpc/chorus/internal/store"
	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

type resultService struct {
	*Server
	chorusv1.UnimplementedResultServiceServer
}

// CreateResults declares results; those given data (at most InlineLimit bytes) are stored inline and
// completed at once.
func (s resultService) CreateResults(ctx context.Context, req *chorusv1.CreateResultsRequest) (*chorusv1.CreateResultsResponse, error) {
	if n := len(req.GetResults()); n > s.cfg.MaxBatch {
		return nil, overLimit("MaxBatch", int64(s.cfg.MaxBatch),
			"a batch of %d results is over the limit of %d results per call (MaxBatch); split it into smaller batches", n, s.cfg.MaxBatch)
	}
	specs := make([]store.ResultSpec, len(req.GetResults()))
	for i, r := range req.GetResults() {
		specs[i].ResultID = r.GetResultId()
		if !hasData(r) {
			continue
		}
		data := r.GetData()
		if n := int64(len(data)); n > s.cfg.InlineLimit {
			return nil, overLimit("InlineLimit", s.cfg.InlineLimit,
				"results[%d].data is %d bytes, over the inline limit of %d bytes (InlineLimit); create the result without data and upload it with UploadResultData (REST: PUT .../results/{result_id}/data)",
				i, n, s.cfg.InlineLimit)
		}
		if data == nil {
			data = []byte{}
		}
		inline := store.InlineData(data)
		specs[i].Data = &inline
	}
	results, err := s.store.CreateResults(ctx, req.GetSessionId(), specs)
	return reply(&chorusv1.CreateResultsResponse{Results: results}, err)
}

// hasData reports whether the optional data field is set (possibly to empty data).
func hasData(r *chorusv1.ResultSpec) bool {
	m := r.ProtoReflect()
	return m.Has(m.Descriptor().Fields().ByName("data"))
}

func (s resultService) GetResult(ctx context.Context, req *chorusv1.GetResultRequest) (*chorusv1.GetResultResponse, error) {
	r, err := s.store.GetResult(ctx, req.GetSessionId(), req.GetResultId())
	return reply(&chorusv1.GetResultResponse{Result: r}, err)
}

func (s resultService) ListResults(ctx context.Context, req *chorusv1.ListResultsRequest) (*chorusv1.ListResultsResponse, error) {
	results, next, err := s.store.ListResults(ctx, req.GetSessionId(), listQuery(req))
	return reply(&chorusv1.ListResultsResponse{Results: results, NextPageToken: next}, err)
}
