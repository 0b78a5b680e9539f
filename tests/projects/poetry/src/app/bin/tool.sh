#!/bin/sh
# Packaged with mode 0755: the tests check the executable bit survives.
echo "poetry-fixture tool ok"
