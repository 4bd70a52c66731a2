<?php
// The seed's "Request Example SOAP V2" (003_…) as it is written, but for the
// URL, the credentials and the customer id, and with its var_dump turned
// into a step of the JSON this prints (see magento_common.php); then the
// steps and faults around it.
// Usage: php magento_v2.php GATEWAY API_USER API_KEY CUSTOMER EMPTY_CUSTOMER FOREIGN_CUSTOMER
require __DIR__ . '/magento_common.php';
[$_, $gateway, $apiUser, $apiKey, $customer, $emptyCustomer, $foreignCustomer] = $argv;

$proxy = new SoapClient($gateway . '/index.php/api/v2_soap/?wsdl');
$sessionId = $proxy->login($apiUser, $apiKey);

$result = $proxy->enterpriseCustomerbalanceHistory($sessionId, $customer);

$out = [];
$out['login'] = ['ok' => flat($sessionId)];
$out['enterpriseCustomerbalanceHistory'] = ['ok' => flat($result)];
$history = fn(...$args) => step(fn() => $proxy->enterpriseCustomerbalanceHistory($sessionId, ...$args));
$out['website 2'] = $history($customer, '2');
$out['website 1'] = $history($customer, '1');
$out['customer abc'] = $history('abc');
$out['website -1'] = $history($customer, '-1');
$out['customer without history'] = $history($emptyCustomer);
$out['another tenant\'s customer'] = $history($foreignCustomer);
$out['bad login'] = step(fn() => $proxy->login($apiUser, 'wrong-' . $apiKey));
$out['unknown session'] = step(fn() => $proxy->enterpriseCustomerbalanceHistory(str_repeat('0', 32), $customer));
$out['endSession'] = step(fn() => $proxy->endSession($sessionId));
$out['after endSession'] = $history($customer);
report($out);
