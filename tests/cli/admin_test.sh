#!/usr/bin/env bash
# `webims admin` for the issue 4 objects against a fresh store: WWSFs (add, list, block, unblock,
# remove, pool), subscriber allow-wwsf, OAuth clients (public and wwsf with a certificate hash),
# and the errors of each. usage: admin_test.sh WEBIMS
set -euo pipefail
bin=$(readlink -f "$1")
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
cd "$dir"
cat > webims.toml <<TOML
[store]
url = "sqlite://$dir/webims.db"
[core]
home_domain = "ims.example.org"
TOML
passed=0
failed=0
fail() { echo "FAIL: $*" >&2; failed=$((failed + 1)); }
ok() { passed=$((passed + 1)); }
admin() { "$bin" admin --config webims.toml "$@"; }
# expect_out PATTERN CMD...: succeeds and prints PATTERN (grep -E)
expect_out() {
  local pat=$1; shift
  local out
  if ! out=$(admin "$@" 2>&1); then fail "'$*' failed: $out"; return; fi
  if grep -Eq -- "$pat" <<<"$out"; then ok; else fail "'$*' printed '$out', expected /$pat/"; fi
}
# expect_err PATTERN CMD...: fails (non-zero) and says PATTERN on stderr
expect_err() {
  local pat=$1; shift
  local err
  if admin "$@" >/dev/null 2>"$dir/err"; then fail "'$*' succeeded, expected an error"; return; fi
  err=$(cat "$dir/err")
  if grep -Eq -- "$pat" <<<"$err"; then ok; else fail "'$*' said '$err', expected /$pat/"; fi
}

expect_out "wwsf add ID \[--pool-pattern" --help
expect_out "oauth-client add ID --kind wwsf" --help

# WWSFs
expect_out "wwsf 'socialnet.example' stored, pool \*@socialnet.example" wwsf add socialnet.example --pool-pattern '*@socialnet.example'
expect_out "wwsf 'good.example' stored, no pool" wwsf add good.example
expect_err "must be a host name" wwsf add 'bad id'
expect_err "IMPI pattern" wwsf add x.example --pool-pattern 'no-at-sign'
expect_err "usage: webims admin wwsf add" wwsf add
expect_out "blocked" wwsf block good.example --reason "phishing reports"
expect_out "^good.example	-	blocked \(phishing reports\)	" wwsf list
expect_out "still blocked" wwsf add good.example   # re-adding does not lift a block
expect_out "unblocked" wwsf unblock good.example
expect_out "^good.example	-	active	" wwsf list
expect_err "no WWSF 'nobody.example'" wwsf block nobody.example

# Pool: subscriptions owned by the WWSF, and their live assignment
admin subscriber add --impi guest1@socialnet.example --impu sip:guest1@socialnet.example --password pw1 --pool-owner socialnet.example >/dev/null
admin subscriber add --impi guest2@socialnet.example --impu sip:guest2@socialnet.example --password pw2 --pool-owner socialnet.example >/dev/null
admin subscriber add --impi alice@ims.example.org --impu sip:alice@ims.example.org --password pw3 >/dev/null
expect_out "^guest1@socialnet.example	sip:guest1@socialnet.example	free" wwsf pool socialnet.example
if [ "$(admin wwsf pool socialnet.example | wc -l)" = 2 ]; then ok; else fail "wwsf pool lists other subscriptions"; fi
expect_err "no WWSF 'nobody.example'" wwsf pool nobody.example

# Allowed WWSFs of a subscription (scenario 2)
expect_out "may be registered by wwsf good.example, socialnet.example" subscriber allow-wwsf alice@ims.example.org good.example socialnet.example
expect_out "allowed wwsf: good.example, socialnet.example" subscriber show alice@ims.example.org
expect_err "no WWSF 'typo.example'" subscriber allow-wwsf alice@ims.example.org typo.example
expect_out "allowed wwsf: good.example, socialnet.example" subscriber show alice@ims.example.org  # unchanged
expect_err "not both or neither" subscriber allow-wwsf alice@ims.example.org
expect_err "not both or neither" subscriber allow-wwsf alice@ims.example.org good.example --none
expect_err "no subscriber 'nobody'" subscriber allow-wwsf nobody good.example
expect_out "may be registered by no WWSF" subscriber allow-wwsf alice@ims.example.org --none
expect_out "allowed wwsf: -" subscriber show alice@ims.example.org

# OAuth clients
expect_out "public, redirect URIs https://localhost:8443/app/cb" oauth-client add webims-app --kind public --redirect-uri https://localhost:8443/app/cb
expect_err "at least one --redirect-uri" oauth-client add x --kind public
expect_err "absolute URI without fragment" oauth-client add x --kind public --redirect-uri /relative
expect_err "absolute URI without fragment" oauth-client add x --kind public --redirect-uri 'https://a.example/cb#frag'
expect_err "--kind must be 'public' or 'wwsf'" oauth-client add x --kind confidential
expect_err "needs --wwsf WWSF-ID and --cert-file PEM" oauth-client add x --kind wwsf --wwsf socialnet.example
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout key.pem -out cert.pem \
  -days 1 -subj /CN=socialnet.example 2>/dev/null
want=$(openssl x509 -in cert.pem -outform DER | sha256sum | cut -d' ' -f1)
expect_out "certificate SHA-256 $want" oauth-client add socialnet --kind wwsf --wwsf socialnet.example --cert-file cert.pem
expect_err "no WWSF 'nobody.example'" oauth-client add y --kind wwsf --wwsf nobody.example --cert-file cert.pem
expect_err "holds no PEM certificate" oauth-client add y --kind wwsf --wwsf socialnet.example --cert-file key.pem
expect_err "cannot read --cert-file" oauth-client add y --kind wwsf --wwsf socialnet.example --cert-file missing.pem
expect_out "^socialnet	wwsf	wwsf=socialnet.example cert-sha256=$want	" oauth-client list
expect_out "^webims-app	public	https://localhost:8443/app/cb	" oauth-client list
expect_out "removed" oauth-client remove webims-app
expect_err "no oauth client 'webims-app'" oauth-client remove webims-app

# Removing a WWSF
expect_out "wwsf 'good.example' removed" wwsf remove good.example
expect_err "no WWSF 'good.example'" wwsf remove good.example
if admin wwsf list | grep -q '^good.example'; then fail "removed WWSF still listed"; else ok; fi

echo "admin: $passed passed, $failed failed"
[ "$failed" = 0 ]
