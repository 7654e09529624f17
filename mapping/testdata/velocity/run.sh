#!/bin/sh
# Regenerates the reference outputs:
#   mapping/testdata/lang/*.out      from lang/*.vm with Apache Velocity 1.7
#   mapping/testdata/jsonpath/paths.out  from jsonpath/paths.txt with Jayway JsonPath 2.0
# An argument renders that directory of .vm files instead (the Go oracle test uses this).
set -e
here=$(cd "$(dirname "$0")" && pwd)
j=/usr/share/java
vcp=$j/velocity-1.7.jar:$j/commons-collections3.jar:$j/commons-lang.jar
jcp=$j/json-path.jar:$j/json-smart.jar:$j/accessors-smart.jar:$j/asm.jar:$j/slf4j-api.jar:$j/slf4j-nop.jar
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
javac -d "$tmp" -cp "$vcp:$jcp" "$here/Render.java"
java -cp "$tmp:$vcp:$jcp" Render "${1:-$here/../lang}" "$here/body.json"
if [ -z "$1" ]; then
  javac -d "$tmp" -cp "$jcp" "$here/JsonPathRun.java"
  java -cp "$tmp:$jcp" JsonPathRun "$here/../jsonpath/doc.json" "$here/../jsonpath/paths.txt" "$here/../jsonpath/paths.out"
fi
