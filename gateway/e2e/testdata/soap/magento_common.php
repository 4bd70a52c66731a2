<?php
// What the Magento SOAP client scripts share: each step's answer written
// out as flat lines that keep what PHP holds — every key and property in
// its order, every value's PHP type — or the step's fault. The test in
// magento_soap_test.go compares the lines with the seed's "Response
// Example SOAP V1" (003_…).

// Each run loads the WSDL it is given: the tests' ports come and go.
ini_set('soap.wsdl_cache_enabled', '0');

// flat lists $v as lines "PATH TYPE [VALUE]": $ is the answer, [0] and
// ['key'] index arrays, ->name reads object properties.
function flat($v, string $path = '$', array &$lines = []): array
{
    if (is_array($v)) {
        $lines[] = "$path array";
        foreach ($v as $k => $item) {
            flat($item, $path . (is_int($k) ? "[$k]" : "['$k']"), $lines);
        }
    } elseif (is_object($v)) {
        $lines[] = "$path object(" . get_class($v) . ")";
        foreach (get_object_vars($v) as $k => $item) {
            flat($item, "$path->$k", $lines);
        }
    } elseif ($v === null) {
        $lines[] = "$path null";
    } elseif (is_string($v)) {
        $lines[] = "$path string $v";
    } else {
        $lines[] = "$path " . get_debug_type($v) . " " . var_export($v, true);
    }
    return $lines;
}

// step runs one call: {"ok": lines} or {"fault": {"code", "string"}}.
function step(callable $f): array
{
    try {
        return ["ok" => flat($f())];
    } catch (SoapFault $ex) {
        return ["fault" => ["code" => $ex->faultcode, "string" => $ex->getMessage()]];
    }
}

function report(array $out): void
{
    echo json_encode($out, JSON_PRETTY_PRINT | JSON_UNESCAPED_SLASHES), "\n";
}
