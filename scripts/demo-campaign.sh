#!/usr/bin/env bash
# The demo owner's first steps, through the api as a browser takes them: sign in, connect
# LinkedIn (the sandbox's consent page, consent given at once), launch "Lyon bakeries".
# On a demo restart the owner connects again (the sandbox keeps its tokens in memory, so
# the stored one is unknown to the new sandbox) and launches nothing.
# scripts/demo-campaign.sh API_URL EMAIL PASSWORD RUN_DIR
set -euo pipefail
api=$1 email=$2 password=$3 run=$4
jar="$run/demo-owner.cookies"
rm -f "$jar"
signin=$(curl -fsS -c "$jar" -b "$jar" -H 'content-type: application/json' \
  -d "{\"email\":\"$email\",\"password\":\"$password\"}" "$api/api/auth/sign-in")
csrf=$(printf '%s' "$signin" | sed -n 's/.*"csrf_token":"\([^"]*\)".*/\1/p')
call() { # METHOD PATH [JSON]
  curl -fsS -c "$jar" -b "$jar" -X "$1" -H "x-csrf-token: $csrf" \
    -H 'content-type: application/json' ${3:+-d "$3"} "$api$2"
}
authorize=$(call POST /api/profile/linkedin/connect | sed -n 's/.*"authorize_url":"\([^"]*\)".*/\1/p')
# The browser's way: consent page (given at once), the api's callback, then the profile page.
curl -sS -L -c "$jar" -b "$jar" -o /dev/null "$authorize&auto=allow&member=demo-owner"
if ! call GET /api/profile | grep -q '"connected":true'; then
  echo "LinkedIn did not connect for the demo owner" >&2
  exit 1
fi
if call GET /api/campaigns | grep -q '"total":[1-9]'; then
  exit 0
fi
campaign=$(call POST /api/campaigns '{"name":"Lyon bakeries","industry":"bakery","location":"Lyon"}')
id=$(printf '%s' "$campaign" | sed -n 's/^{"id":\([0-9]*\).*/\1/p')
call POST "/api/campaigns/$id/launch" >/dev/null
echo "demo campaign $id launched"
