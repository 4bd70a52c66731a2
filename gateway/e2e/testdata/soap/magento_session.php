<?php
// One SOAP v1 step of a session whose life the test drives between runs:
// log in on one gateway, call on another, revoke the credential, call again.
// It prints {"STEP": answer or fault} (see magento_common.php).
// Usage: php magento_session.php GATEWAY login API_USER API_KEY
//        php magento_session.php GATEWAY history SESSION_ID CUSTOMER
//        php magento_session.php GATEWAY endSession SESSION_ID
require __DIR__ . '/magento_common.php';
[$_, $gateway, $what] = $argv;
$args = array_slice($argv, 3);

$proxy = new SoapClient($gateway . '/index.php/api/soap/?wsdl');
report([$what => step(fn() => match ($what) {
    'login' => $proxy->login($args[0], $args[1]),
    'history' => $proxy->call($args[0], 'storecredit.history', array((int) $args[1])),
    'endSession' => $proxy->endSession($args[0]),
})]);
