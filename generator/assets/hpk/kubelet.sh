#!/usr/bin/env bash
# Runs hpk-kubelet, the Virtual Kubelet that turns every pod into a Slurm job, once this start of
# the control plane answers: it writes the kubeconfig, signs the kubelet's serving certificate
# with the cluster CA, and registers the webhooks through which HPK adapts pods and claims.
set -euo pipefail
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
hpk_not_root

deadline=$((SECONDS + HPK_API_TIMEOUT))
until hpk_api_ready; do
  ((SECONDS < deadline)) || hpk_die "the API server did not answer within $HPK_API_TIMEOUT s (logs: $HPK_LOG_DIR)"
  sleep 2
done
install -m 600 "$HPK_ADMIN_CONF" "$HPK_KUBECONFIG"
hpk_log "API server ready; kubeconfig: $HPK_KUBECONFIG"

dir="$HPK_STATE_DIR/hpk-kubelet"
mkdir -p "$dir"
chmod 700 "$dir"
[[ -s $dir/kubelet.key ]] || (umask 077 && openssl genrsa -out "$dir/kubelet.key" 2048 2> /dev/null)
cat > "$dir/kubelet.cnf" << CNF
[req]
distinguished_name = dn
[dn]
[v3]
basicConstraints = CA:FALSE
keyUsage = digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth, clientAuth
subjectAltName = IP:127.0.0.1, IP:$HPK_HOST_ADDRESS
CNF
openssl req -new -key "$dir/kubelet.key" -subj "/CN=hpk-kubelet" -config "$dir/kubelet.cnf" -out "$dir/kubelet.csr"
openssl x509 -req -days 365 -in "$dir/kubelet.csr" -CA "$HPK_KUBE_DIR/pki/ca.crt" -CAkey "$HPK_KUBE_DIR/pki/ca.key" \
  -CAcreateserial -CAserial "$dir/ca.srl" -extfile "$dir/kubelet.cnf" -extensions v3 -out "$dir/kubelet.crt" 2> /dev/null

ca_bundle=$(base64 < "$HPK_KUBE_DIR/pki/ca.crt" | tr -d '\n')
webhook() {
  cat << HOOK
  - name: $1-mutator.hpk.dev
    rules:
      - apiGroups: [""]
        apiVersions: [v1]
        operations: [CREATE]
        resources: [$2]
        scope: Namespaced
    clientConfig:
      url: https://$HPK_HOST_ADDRESS:10250/mutates/$1
      caBundle: $ca_bundle
    failurePolicy: Fail
    admissionReviewVersions: [v1]
    timeoutSeconds: 5
    sideEffects: None
HOOK
}
{
  printf 'apiVersion: admissionregistration.k8s.io/v1\nkind: MutatingWebhookConfiguration\nmetadata:\n  name: hpk-kubelet\nwebhooks:\n'
  webhook pod pods
  webhook pvc persistentvolumeclaims
} | hpk_kubectl apply -f - > /dev/null

export KUBECONFIG=$HPK_ADMIN_CONF
export APISERVER_KEY_LOCATION="$dir/kubelet.key" APISERVER_CERT_LOCATION="$dir/kubelet.crt" VKUBELET_ADDRESS=$HPK_HOST_ADDRESS
# Every pod's job is charged to the site's account (sbatch reads SBATCH_ACCOUNT).
if [[ -n $HPK_ACCOUNT ]]; then export SBATCH_ACCOUNT=$HPK_ACCOUNT; fi
cd "$HPK_STATE_DIR"
exec "$HPK_KUBELET_BIN"
