#!/usr/bin/env bash
# Install what the offline deployment checks (tests/unit/deploy) need into .tools/ (git-ignored by the
# .gitignore it writes there), from package registries only — nothing is downloaded at test time:
#   .tools/bin/kustomize           go install sigs.k8s.io/kustomize/kustomize/v5 (Go module proxy)
#   .tools/schemas/compose-spec.json   from the Go module github.com/compose-spec/compose-go/v2
#   .tools/crds/*.yaml             operator CRDs (their openAPIV3Schema validates our custom resources):
#     KServe InferenceService      Go module github.com/kserve/kserve        config/crd/full/
#     KEDA ScaledObject            Go module github.com/kedacore/keda/v2      config/crd/bases/
#     Kubeflow PyTorchJob          Go module github.com/kubeflow/training-operator  manifests/base/crds/
#     Flink FlinkDeployment        Maven org.apache.flink:flink-kubernetes-operator-api (META-INF/fabric8/)
#     Strimzi Kafka/KafkaNodePool/KafkaTopic   generated from Maven io.strimzi:api by Strimzi's own
#                                  io.strimzi:crd-generator (the jar ships classes, not CRD YAML)
# Idempotent: a no-op in milliseconds when .tools/versions matches. Needs Go, Java 17+ and Maven.
set -euo pipefail
cd "$(dirname "$0")/.."

KUSTOMIZE_VERSION=v5.8.1
COMPOSE_GO_VERSION=v2.16.2
KSERVE_VERSION=v0.15.2
KEDA_VERSION=v2.18.0
TRAINING_OPERATOR_VERSION=v1.9.2
FLINK_OPERATOR_VERSION=1.10.0
STRIMZI_API_VERSION=0.50.0
STRIMZI_CRD_GENERATOR_VERSION=0.45.0

TOOLS="$PWD/.tools"
WANT="kustomize=$KUSTOMIZE_VERSION compose-go=$COMPOSE_GO_VERSION kserve=$KSERVE_VERSION keda=$KEDA_VERSION"
WANT="$WANT training-operator=$TRAINING_OPERATOR_VERSION flink-operator=$FLINK_OPERATOR_VERSION"
WANT="$WANT strimzi=$STRIMZI_API_VERSION/crd-generator-$STRIMZI_CRD_GENERATOR_VERSION"
if [ -f "$TOOLS/versions" ] && [ "$(cat "$TOOLS/versions")" = "$WANT" ] && [ -x "$TOOLS/bin/kustomize" ]; then
  exit 0
fi

GO="$(command -v go || true)"
[ -n "$GO" ] || GO=/usr/local/go/bin/go
[ -x "$GO" ] || { echo "install-k8s-tools: Go is needed (looked in PATH and /usr/local/go/bin)" >&2; exit 1; }
command -v mvn >/dev/null || { echo "install-k8s-tools: Maven is needed (make sysdeps)" >&2; exit 1; }
command -v java >/dev/null || { echo "install-k8s-tools: Java 17+ is needed (make sysdeps)" >&2; exit 1; }

mkdir -p "$TOOLS/bin" "$TOOLS/crds" "$TOOLS/schemas" "$TOOLS/work"
printf '*\n' >"$TOOLS/.gitignore"
echo "install-k8s-tools: kustomize, compose-spec and operator CRDs into .tools/"

# go mod download runs outside any module (the repository has no go.mod).
gomod_dir() {
  (cd "$TOOLS/work" && GOFLAGS=-mod=mod "$GO" mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
}

GOBIN="$TOOLS/bin" "$GO" install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"

dir="$(gomod_dir "github.com/compose-spec/compose-go/v2@$COMPOSE_GO_VERSION")"
install -m 0644 "$dir/schema/compose-spec.json" "$TOOLS/schemas/compose-spec.json"

dir="$(gomod_dir "github.com/kserve/kserve@$KSERVE_VERSION")"
install -m 0644 "$dir/config/crd/full/serving.kserve.io_inferenceservices.yaml" "$TOOLS/crds/"

dir="$(gomod_dir "github.com/kedacore/keda/v2@$KEDA_VERSION")"
install -m 0644 "$dir/config/crd/bases/keda.sh_scaledobjects.yaml" "$TOOLS/crds/"

dir="$(gomod_dir "github.com/kubeflow/training-operator@$TRAINING_OPERATOR_VERSION")"
install -m 0644 "$dir/manifests/base/crds/kubeflow.org_pytorchjobs.yaml" "$TOOLS/crds/"

# Maven: a throwaway pom that copies the operator jars (and the generator's classpath) into .tools/work.
cat >"$TOOLS/work/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>io.fieldstream</groupId><artifactId>k8s-crds</artifactId><version>0</version>
  <dependencies>
    <dependency><groupId>io.strimzi</groupId><artifactId>api</artifactId>
      <version>$STRIMZI_API_VERSION</version></dependency>
    <dependency><groupId>io.strimzi</groupId><artifactId>crd-generator</artifactId>
      <version>$STRIMZI_CRD_GENERATOR_VERSION</version></dependency>
  </dependencies>
</project>
POM
rm -rf "$TOOLS/work/lib" "$TOOLS/work/flink"
mvn() { command mvn -q -B "$@" 2>&1 | sed -e 's/\x1b\[[0-9;]*m//g'; }
mvn -f "$TOOLS/work/pom.xml" dependency:copy-dependencies -DoutputDirectory="$TOOLS/work/lib"
mvn -f "$TOOLS/work/pom.xml" dependency:copy -DoutputDirectory="$TOOLS/work/flink" \
  -Dartifact="org.apache.flink:flink-kubernetes-operator-api:$FLINK_OPERATOR_VERSION"

python3 - "$TOOLS/work/flink/flink-kubernetes-operator-api-$FLINK_OPERATOR_VERSION.jar" "$TOOLS/crds" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as jar:
    data = jar.read("META-INF/fabric8/flinkdeployments.flink.apache.org-v1.yml")
open(f"{sys.argv[2]}/flink.apache.org_flinkdeployments.yaml", "wb").write(data)
PY

java -cp "$TOOLS/work/lib/*" io.strimzi.crdgenerator.CrdGenerator --crd-api-version v1 --yaml \
  "io.strimzi.api.kafka.model.kafka.Kafka=$TOOLS/crds/kafka.strimzi.io_kafkas.yaml" \
  "io.strimzi.api.kafka.model.nodepool.KafkaNodePool=$TOOLS/crds/kafka.strimzi.io_kafkanodepools.yaml" \
  "io.strimzi.api.kafka.model.topic.KafkaTopic=$TOOLS/crds/kafka.strimzi.io_kafkatopics.yaml" \
  2> >(grep -v '^SLF4J' >&2)

rm -rf "$TOOLS/work"
echo "$WANT" >"$TOOLS/versions"
"$TOOLS/bin/kustomize" version
