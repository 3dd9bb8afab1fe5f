package gateway

import (
	"context"

	chorusv1 "github.com/chorus-hpc/chorus/sdks/go/gen/chorus/v1"
)

type partitionService struct {
	*Server
	chorusv1.UnimplementedPartitionServiceServer
}

func (s partitionService) ListPartitions(ctx context.Context, _ *chorusv1.ListPartitionsRequest) (*chorusv1.ListPartitionsResponse, error) {
	ps, err := s.store.ListPartitions(ctx)
	return reply(&chorusv1.ListPartitionsResponse{Partitions: ps}, err)
}

func (s partitionService) GetPartition(ctx context.Context, req *chorusv1.GetPartitionRequest) (*chorusv1.GetPartitionResponse, error) {
	p, err := s.store.GetPartition(ctx, req.GetPartitionId())
	return reply(&chorusv1.GetPartitionResponse{Partition: p}, err)
}
