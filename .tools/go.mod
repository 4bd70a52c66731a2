module abacus.local/tools

go 1.26
