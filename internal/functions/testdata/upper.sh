#!/bin/sh
# A command function for the tests: echoes its event in upper case, with $STAGE appended;
# an event containing "fail" exits 3, "sleep" sleeps past any test timeout.
event=$(cat)
echo "got $(printf %s "$event" | wc -c) bytes" >&2
case "$event" in
*fail*) echo "failing on purpose" >&2; exit 3 ;;
*sleep*) sleep 30 ;;
esac
printf '%s|%s' "$(printf %s "$event" | tr a-z A-Z)" "$STAGE"
