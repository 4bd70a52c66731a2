module github.com/abacus-ledger/abacus/services/customer

go 1.26.0

require (
	github.com/abacus-ledger/abacus/proto v0.0.0-00010101000000-000000000000
	github.com/abacus-ledger/abacus/services/platform v0.0.0-00010101000000-000000000000
)

require (
	github.com/google/uuid v1.6.0 // indirect
	github.com/jackc/pgpassfile v1.0.0 // indirect
	github.com/jackc/pgservicefile v0.0.0-20240606120523-5a60cdf6a761 // indirect
	github.com/jackc/pgx/v5 v5.12.0 // indirect
	golang.org/x/net v0.61.0 // indirect
	golang.org/x/sys v0.49.0 // indirect
	golang.org/x/text v0.43.0 // indirect
	google.golang.org/genproto/googleapis/rpc v0.0.0-20261026165753-2ffab32bce7e // indirect
	google.golang.org/grpc v1.85.0 // indirect
	google.golang.org/protobuf v1.36.12 // indirect
)

replace github.com/abacus-ledger/abacus/proto => ../../proto

replace github.com/abacus-ledger/abacus/services/platform => ../platform
