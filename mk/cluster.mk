# Beyond one machine (e2e/cluster): two gateways and two agents on a Valkey Cluster of 3 masters with
# one replica each, 200 sessions of mixed graphs while a master is SIGKILLed and its replica takes
# over; the same workload on one valkey-server for comparison; agents in their own network
# namespaces (skipped with a message where namespaces are refused). A few minutes.

.PHONY: test-cluster
test-cluster: deps ## End to end on a Valkey Cluster with a master failover, and agents in network namespaces
	$(GO) test -count=1 -timeout 20m -v -run 'TestClusterFailover|TestClusterBaseline|TestStandaloneBaseline|TestAgentsInNetworkNamespaces' ./e2e/cluster/ -args -cluster

TEST_TARGETS += test-cluster
