#!/bin/bash
# The release build's hardening is in the binary (issue 12): a position-
# independent executable, full RELRO (GNU_RELRO + BIND_NOW), the stack
# protector and _FORTIFY_SOURCE's checked calls. Run by ctest only on
# builds configured with the hardening flags (GF_HARDENED).
set -u
BIN=$1
fail=0
check() { if ! eval "$2"; then echo "FAIL: $1"; fail=1; else echo "ok: $1"; fi; }
command -v readelf >/dev/null || { echo "SKIPPED: no readelf"; exit 77; }
check "PIE (ELF type DYN)" "readelf -h '$BIN' | grep -q 'Type: *DYN'"
check "RELRO segment" "readelf -lW '$BIN' | grep -q GNU_RELRO"
check "bind now" "readelf -dW '$BIN' | grep -Eq 'BIND_NOW|FLAGS_1.*NOW'"
check "stack protector" "readelf -sW '$BIN' | grep -q '__stack_chk_fail'"
check "fortified libc calls (__*_chk)" "readelf -sW '$BIN' | grep -Eq ' __[a-z]+_chk(@|$)'"
exit $fail
