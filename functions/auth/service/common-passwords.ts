/**
 * A small shipped list of common passwords of 12+ characters (shorter ones fail the length rule
 * anyway), drawn from public breach corpora (SecLists "10k most common", rockyou top entries).
 * Compared lower-cased. NIST SP 800-63B §5.1.1.2 asks for a check against known-compromised values.
 */
export const COMMON_PASSWORDS: ReadonlySet<string> = new Set([
  '123456789012', '1234567890123', '12345678901234', '123456789123', '1234567891011', '111111111111',
  '000000000000', '123123123123', '121212121212', '987654321098', '098765432109', '112233445566',
  '123456123456', '123412341234', '147258369147', '159753159753', '147852369147', '741852963741',
  'password1234', 'password12345', 'password123456', 'password1!23', 'password!234', 'passwordpassword',
  'password1234!', 'p@ssword1234', 'p@ssw0rd1234', 'passw0rd1234', 'mypassword123', 'mypassword1234',
  'password2020', 'password2021', 'password2022', 'password2023', 'password2024', 'password2025',
  'qwertyuiop12', 'qwertyuiop123', 'qwertyuiopas', 'qwerty123456', 'qwerty1234567', 'qwertyqwerty',
  '1qaz2wsx3edc', '1q2w3e4r5t6y', '1q2w3e4r5t6y7u', 'q1w2e3r4t5y6', 'zaq12wsxcde3', 'zxcvbnm12345',
  'asdfghjkl123', 'asdfghjkl;\'', 'qazwsxedcrfv', 'qazwsxedc123', '!qaz2wsx#edc', 'abcdefghijkl',
  'abc123abc123', 'abcd12345678', 'abcdef123456', 'abcdefg12345', 'a1b2c3d4e5f6', 'aaaaaaaaaaaa',
  'iloveyou1234', 'iloveyou12345', 'iloveyouforever', 'letmein12345', 'letmein123456', 'welcome12345',
  'welcome123456', 'welcome2024!', 'changeme1234', 'changeme12345', 'administrator', 'administrator1',
  'admin1234567', 'adminadmin123', 'rootroot1234', 'superman1234', 'batman123456', 'football1234',
  'baseball1234', 'basketball12', 'basketball123', 'michael12345', 'jordan232323', 'princess1234',
  'sunshine1234', 'starwars1234', 'trustno11234', 'dragon123456', 'monkey123456', 'shadow123456',
  'master123456', 'computer1234', 'internet1234', 'whatever1234', 'chocolate123', 'pokemon12345',
  'liverpool123', 'chelsea12345', 'arsenal12345', 'manchester12', 'blink1821821', 'thequickbrownfox',
  'correcthorsebatterystaple', 'correct horse battery staple', 'iloveyouiloveyou', 'nopassword123',
  'secret123456', 'secretpassword', 'mysecretpassword', 'opensesame123', 'helloworld123', 'hello1234567',
  'test12345678', 'testtesttest', 'testing12345', 'default12345', 'guest1234567', 'usuario12345',
  'contraseña123', 'passwort1234', 'motdepasse123', 'azertyuiop12', 'qwertzuiop12', 'lattice-lock',
  'latticelock123', 'latticelock1234',
]);
