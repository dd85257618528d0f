@echo off
rem The AI Gateway emulator's az stand-in for cmd.exe and PowerShell (this folder first on PATH).
node "%~dp0az" %*
