# Deployment: the Helm chart (deploy/helm/chorus) linted, rendered with the default, production and
# AWS values, and every rendered object validated offline against the Kubernetes schemas of the
# pinned PyPI package kubernetes-validate (KEDA ScaledObjects against deploy/check's JSON schema).
HELM_VERSION := v3.22.0
KUBERNETES_VALIDATE_VERSION := 1.37.0
DEPLOY_K8S_VERSIONS := 1.30 1.37
DEPLOY_RENDER_K8S := 1.30.0
DEPLOY_VENV := $(ROOT)/.venv-deploy
DEPLOY_OUT := $(ROOT)/.deploy-check
CHART := deploy/helm/chorus

$(BIN)/.helm-$(HELM_VERSION):
	GOBIN=$(BIN) $(GO) install helm.sh/helm/v3/cmd/helm@$(HELM_VERSION)
	@touch $@

$(DEPLOY_VENV)/.kubernetes-validate-$(KUBERNETES_VALIDATE_VERSION): deploy/check/requirements.txt
	python3 -m venv $(DEPLOY_VENV)
	$(DEPLOY_VENV)/bin/pip install -q --disable-pip-version-check -r deploy/check/requirements.txt
	@touch $@

.PHONY: deploy-tools
deploy-tools: $(BIN)/.helm-$(HELM_VERSION) $(DEPLOY_VENV)/.kubernetes-validate-$(KUBERNETES_VALIDATE_VERSION) ## Install helm and kubernetes-validate at pinned versions

.PHONY: deploy-check
deploy-check: deploy-tools ## helm lint + template (default, production, AWS values) + offline schema validation
	@rm -rf $(DEPLOY_OUT) && mkdir -p $(DEPLOY_OUT)
	$(BIN)/helm lint --strict --kube-version $(DEPLOY_RENDER_K8S) $(CHART)
	$(BIN)/helm lint --strict --kube-version $(DEPLOY_RENDER_K8S) $(CHART) -f $(CHART)/values-production.yaml
	$(BIN)/helm lint --strict --kube-version $(DEPLOY_RENDER_K8S) $(CHART) -f deploy/aws/values-aws.yaml
	$(BIN)/helm template chorus $(CHART) --namespace chorus --kube-version $(DEPLOY_RENDER_K8S) > $(DEPLOY_OUT)/default.yaml
	$(BIN)/helm template chorus $(CHART) --namespace chorus --kube-version $(DEPLOY_RENDER_K8S) -f $(CHART)/values-production.yaml > $(DEPLOY_OUT)/production.yaml
	$(BIN)/helm template chorus $(CHART) --namespace chorus --kube-version $(DEPLOY_RENDER_K8S) -f deploy/aws/values-aws.yaml > $(DEPLOY_OUT)/aws.yaml
	$(DEPLOY_VENV)/bin/python deploy/check/validate.py $(addprefix --k8s ,$(DEPLOY_K8S_VERSIONS)) \
	  $(DEPLOY_OUT)/default.yaml $(DEPLOY_OUT)/production.yaml $(DEPLOY_OUT)/aws.yaml
	@# The checker must refuse known-bad objects (a typo, a sum() over gateways, an unknown kind).
	@out=$$($(DEPLOY_VENV)/bin/python deploy/check/validate.py $(addprefix --k8s ,$(DEPLOY_K8S_VERSIONS)) deploy/check/testdata/invalid.yaml); \
	  if ! grep -q '^4 invalid object(s)$$' <<<"$$out"; then echo "$$out"; echo "deploy-check: the validator accepted objects it must refuse"; exit 1; fi
	$(DEPLOY_VENV)/bin/python deploy/check/chart_rules.py $(DEPLOY_OUT)/default.yaml $(DEPLOY_OUT)/production.yaml $(DEPLOY_OUT)/aws.yaml
	@echo "deploy-check: chart lints, renders and validates (Kubernetes $(DEPLOY_K8S_VERSIONS))"

TEST_TARGETS += deploy-check
