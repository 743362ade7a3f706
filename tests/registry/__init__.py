"""Tests of the registry server, client, CLI glue and LAN discovery."""
