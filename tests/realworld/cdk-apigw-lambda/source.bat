@echo off
rem The sole purpose of this script is to make the command
rem     source .venv/bin/activate
rem (which activates a Python virtualenv on Linux or Mac OS X) work on Windows.
.venv\Scripts\activate.bat
