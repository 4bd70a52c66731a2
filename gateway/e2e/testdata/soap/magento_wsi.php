<?php
// The seed's "Request Example SOAP V2 (WS-I Compliance Mode)" (003_…) as it
// is written, but for the URL, the credentials and the customer id, and
// with its var_dump turned into a step of the JSON this prints (see
// magento_common.php); then the steps and faults around it.
// Usage: php magento_wsi.php WSDL_URL API_USER API_KEY CUSTOMER EMPTY_CUSTOMER FOREIGN_CUSTOMER
require __DIR__ . '/magento_common.php';
[$_, $wsdl, $apiUser, $apiKey, $customer, $emptyCustomer, $foreignCustomer] = $argv;

$proxy = new SoapClient($wsdl);

$sessionId = $proxy->login((object)array('username' => $apiUser, 'apiKey' => $apiKey));

$result = $proxy->enterpriseCustomerbalanceHistory((object)array('sessionId' => $sessionId->result, 'customerId' => $customer, 'websiteId' => '2'));

$out = [];
$out['login'] = ['ok' => flat($sessionId)];
$out['enterpriseCustomerbalanceHistory'] = ['ok' => flat($result->result)];
$history = fn(array $params) => step(fn() => $proxy->enterpriseCustomerbalanceHistory((object)($params + array('sessionId' => $sessionId->result)))->result);
$out['every website'] = $history(array('customerId' => $customer));
$out['website 1'] = $history(array('customerId' => $customer, 'websiteId' => '1'));
$out['customer abc'] = $history(array('customerId' => 'abc'));
$out['website -1'] = $history(array('customerId' => $customer, 'websiteId' => '-1'));
$out['customer without history'] = $history(array('customerId' => $emptyCustomer));
$out['another tenant\'s customer'] = $history(array('customerId' => $foreignCustomer));
$out['bad login'] = step(fn() => $proxy->login((object)array('username' => $apiUser, 'apiKey' => 'wrong-' . $apiKey)));
$out['unknown session'] = $history(array('sessionId' => str_repeat('0', 32), 'customerId' => $customer));
$out['endSession'] = step(fn() => $proxy->endSession((object)array('sessionId' => $sessionId->result)));
$out['after endSession'] = $history(array('customerId' => $customer));
report($out);
