<?php
// The seed's "Request Example SOAP V1" (003_…) as it is written, but for the
// URL, the credentials and the customer id, then the steps and faults
// around it. It prints one JSON object: each step's answer or fault (see
// magento_common.php).
// Usage: php magento_v1.php GATEWAY API_USER API_KEY CUSTOMER EMPTY_CUSTOMER FOREIGN_CUSTOMER
require __DIR__ . '/magento_common.php';
[$_, $gateway, $apiUser, $apiKey, $customer, $emptyCustomer, $foreignCustomer] = $argv;

$proxy = new SoapClient($gateway . '/index.php/api/soap/?wsdl');
$sessionId = $proxy->login($apiUser, $apiKey);
$customerId = (int) $customer;

$balanceHistory = $proxy->call($sessionId, 'storecredit.history', array($customerId));

$out = [];
$out['login'] = ['ok' => flat($sessionId)];
$out['storecredit.history'] = ['ok' => flat($balanceHistory)];
$history = fn($args, $path = 'storecredit.history') => step(fn() => $proxy->call($sessionId, $path, $args));
$out['the resource name'] = $history(array($customerId), 'enterprise_customerbalance.history');
$out['website 2'] = $history(array($customerId, 2));
$out['named arguments'] = $history(array('customerId' => $customerId, 'websiteId' => '2'));
$out['website 1'] = $history(array($customerId, 1));
$out['customer abc'] = $history(array('abc'));
$out['website -1'] = $history(array($customerId, -1));
$out['customer without history'] = $history(array((int) $emptyCustomer));
$out['another tenant\'s customer'] = $history(array((int) $foreignCustomer));
$out['unknown resource'] = $history(array($customerId), 'storecredit.nosuch');
$out['bad login'] = step(fn() => $proxy->login($apiUser, 'wrong-' . $apiKey));
$out['unknown session'] = step(fn() => $proxy->call(str_repeat('0', 32), 'storecredit.history', array($customerId)));
$out['malformed session'] = step(fn() => $proxy->call('not a session', 'storecredit.history', array($customerId)));
$out['endSession'] = step(fn() => $proxy->endSession($sessionId));
$out['after endSession'] = $history(array($customerId));
report($out);
