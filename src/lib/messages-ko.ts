/**
 * Korean words for the hosted pages, keyed by the English text (see lib/i18n.ts). `{name}` stays as it
 * is in both: a value filled in at run time. A key with placeholders also translates the same message
 * when it arrives already filled in (a domain's "Wait 30 seconds, …"), so put the more specific of two
 * overlapping patterns first.
 */
export const KO: Readonly<Record<string, string>> = {
  // Layout, shared words
  'Cyber card': '사이버 카드',
  'Skip to content': '본문으로 건너뛰기',
  'Card number': '카드 번호',
  Password: '비밀번호',
  'Card password': '카드 비밀번호',
  'Current password': '현재 비밀번호',
  'New password': '새 비밀번호',
  'New password again': '새 비밀번호 확인',
  Code: '인증 코드',
  'Reference: {id}': '참조 번호: {id}',
  'A member site': '가맹 사이트',

  // Login, consent, approval, refusal and logout pages
  'Log in with cyber card': '사이버 카드로 로그인',
  'Log in with your cyber card': '사이버 카드로 로그인하세요',
  '{site} is asking you to log in.': '{site}에서 로그인을 요청합니다.',
  'Log in': '로그인',
  'Pay with cyber card': '사이버 카드로 결제',
  'Pay {site} with your cyber card': '사이버 카드로 {site}에 결제하세요',
  'You are signed in, but every payment needs your card number and password again.':
    '로그인되어 있지만 결제할 때마다 카드 번호와 비밀번호를 다시 입력해야 합니다.',
  '{site} is asking you to log in and approve this payment.': '{site}에서 로그인하고 이 결제를 승인하도록 요청합니다.',
  'Nothing is charged yet: after you log in, you approve or deny this payment.':
    '아직 아무것도 청구되지 않았습니다. 로그인한 다음 이 결제를 승인하거나 거부합니다.',
  'Cancel and go back to {site}': '취소하고 {site}(으)로 돌아가기',
  'Allow access': '접근 허용',
  '{site} would like to': '{site}에서 다음을 요청합니다',
  'Signed in with the card ending {last4}.': '끝자리 {last4} 카드로 로그인했습니다.',
  Allow: '허용',
  Deny: '거부',
  'Know that you hold a valid cyber card': '유효한 사이버 카드를 가지고 있는지 확인',
  'See your name': '이름 보기',
  'Keep you signed in': '로그인 상태 유지',
  'Sign you in': '로그인',
  'Access {rs} ({scopes})': '{rs} 이용 ({scopes})',
  'Access {rs}': '{rs} 이용',
  'Approve payment': '결제 승인',
  'Approve a payment to {site}': '{site} 결제 승인',
  'Card ending {last4}': '끝자리 {last4} 카드',
  Amount: '금액',
  For: '내용',
  'Available credit': '사용 가능 한도',
  'Content rating': '이용 등급',
  'The amount is held on your credit line now and billed on your monthly statement.':
    '이 금액은 지금 신용 한도에서 보류되며 월 명세서로 청구됩니다.',
  '{site} will also be able to:': '{site}에서 다음 권한도 갖게 됩니다:',
  'This payment is large enough to need the 6-digit code from your authenticator app.':
    '금액이 커서 인증 앱의 6자리 코드가 필요한 결제입니다.',
  'Authenticator code': '인증 앱 코드',
  'Approve {amount}': '{amount} 승인',
  'Back to {site}': '{site}(으)로 돌아가기',
  'Sign out': '로그아웃',
  'Sign out?': '로그아웃하시겠습니까?',
  'Do you want to sign out of the card manager and {site}?': '카드 관리 서비스와 {site}에서 로그아웃하시겠습니까?',
  'Do you want to sign out of the card manager?': '카드 관리 서비스에서 로그아웃하시겠습니까?',
  'Yes, sign me out': '예, 로그아웃합니다',
  'No, stay signed in': '아니요, 로그인 상태를 유지합니다',
  'Signed out': '로그아웃됨',
  'You are signed out': '로그아웃되었습니다',
  'Your cyber card session has ended for {site}.': '{site}에 대한 사이버 카드 세션이 종료되었습니다.',
  'Your cyber card session has ended.': '사이버 카드 세션이 종료되었습니다.',
  'Enter your card number and password.': '카드 번호와 비밀번호를 입력하세요.',
  'Enter the 16-digit card number.': '16자리 카드 번호를 입력하세요.',
  'Enter your password.': '비밀번호를 입력하세요.',
  'That password is too long.': '비밀번호가 너무 깁니다.',
  'The card number or password is not correct.': '카드 번호 또는 비밀번호가 올바르지 않습니다.',
  'The card number or password is not correct. {n} wrong passwords lock the card for a while.':
    '카드 번호 또는 비밀번호가 올바르지 않습니다. 비밀번호를 {n}번 잘못 입력하면 카드가 한동안 잠깁니다.',
  'Enter the 6-digit code from your authenticator app.': '인증 앱의 6자리 코드를 입력하세요.',
  'This page does not belong to your current sign-in. Please start again from the member site.':
    '이 페이지는 현재 로그인 과정에 속하지 않습니다. 가맹 사이트에서 다시 시작하세요.',
  'This sign-in has expired or your browser did not keep its cookies. Please start again from the member site.':
    '로그인 시간이 만료되었거나 브라우저가 쿠키를 저장하지 않았습니다. 가맹 사이트에서 다시 시작하세요.',
  'This payment was already approved. Go back to the member site.': '이미 승인된 결제입니다. 가맹 사이트로 돌아가세요.',
  'This content is for {age} and over': '{age}세 이상 이용 가능한 콘텐츠입니다',
  '{site} is rated {age}+. Your cyber card cannot be used to enter it.':
    '{site}은(는) {age}세 이상 이용 등급입니다. 이 사이버 카드로는 이용할 수 없습니다.',
  'This content on {site} is for {age} and over, so your cyber card cannot be used for it.':
    '{site}의 이 콘텐츠는 {age}세 이상 이용 가능하므로 이 사이버 카드로는 이용할 수 없습니다.',
  // Before the sentence about the whole site: read as a pattern, that one would take "this content on …" for a site.
  'You turned adult content off on your card, and this content on {site} is for adults only. You can change this on your card page.':
    '카드에서 성인 콘텐츠를 차단했으며 {site}의 이 콘텐츠는 성인 전용입니다. 카드 페이지에서 변경할 수 있습니다.',
  'You turned adult content off on your card, and {site} is for adults only. You can change this on your card page.':
    '카드에서 성인 콘텐츠를 차단했으며 {site}은(는) 성인 전용입니다. 카드 페이지에서 변경할 수 있습니다.',
  'You have blocked {site} on your card. You can unblock it on your card page.':
    '카드에서 {site}을(를) 차단했습니다. 카드 페이지에서 차단을 해제할 수 있습니다.',

  // Refusals: headings, summaries, and the domain's detailed messages
  'This card cannot be used': '이 카드는 사용할 수 없습니다',
  'Payment not approved': '결제가 승인되지 않았습니다',
  'This member site is suspended': '이 가맹 사이트는 정지되었습니다',
  'Age restricted': '연령 제한',
  'Too many payments for now': '지금은 결제 횟수가 너무 많습니다',
  'Stopped by your own controls': '직접 설정한 사용 제한으로 중단되었습니다',
  'This card has an overdue statement': '이 카드에 연체된 명세서가 있습니다',
  'A statement of this card is overdue, so it cannot be used at {site} until it is paid. Your card page shows the statement and how to pay it.':
    '이 카드의 명세서가 연체되어 납부할 때까지 {site}에서 사용할 수 없습니다. 카드 페이지에서 명세서와 납부 방법을 확인하세요.',
  'This card is locked for a while': '이 카드는 잠시 잠겨 있습니다',
  'A second factor is needed': '2단계 인증이 필요합니다',
  'Second factor not accepted': '2단계 인증에 실패했습니다',
  'This card is not active (closed or replaced), so it cannot sign in or approve payments.': '이 카드는 활성 상태가 아니어서(해지 또는 교체됨) 로그인하거나 결제를 승인할 수 없습니다.',
  'This payment is more than your card can take now.': '이 결제는 지금 카드로 결제할 수 있는 금액을 넘습니다.',
  'This member site cannot take payments at the moment.': '이 가맹 사이트는 지금 결제를 받을 수 없습니다.',
  'This content is not available for your age.': '이 콘텐츠는 회원님의 연령에는 이용할 수 없습니다.',
  'This card has reached its limit of payments for now. Try again later.':
    '이 카드는 지금 결제 횟수 한도에 도달했습니다. 나중에 다시 시도하세요.',
  'Your own spending controls refuse this payment. You can change them on your card page.':
    '직접 설정한 사용 제한에 따라 이 결제는 거절되었습니다. 카드 페이지에서 변경할 수 있습니다.',
  'This card is locked after too many wrong passwords or codes. You can unlock it now by resetting your password.':
    '비밀번호나 코드를 여러 번 잘못 입력해 카드가 잠겼습니다. 지금 비밀번호를 재설정하면 잠금을 해제할 수 있습니다.',
  'This card is locked after too many wrong passwords or codes, until {until}. You can unlock it now by resetting your password.':
    '비밀번호나 코드를 여러 번 잘못 입력해 카드가 {until}까지 잠겼습니다. 지금 비밀번호를 재설정하면 잠금을 해제할 수 있습니다.',
  'Reset your password to unlock the card': '비밀번호를 재설정해 카드 잠금 풀기',
  'A statement of this card is overdue. New charges are refused until it is paid.':
    '이 카드의 명세서 대금이 연체되었습니다. 납부할 때까지 새 결제는 거절됩니다.',
  'This payment needs a code from an authenticator app. Set one up on your card page (Second factor), then try again.':
    '이 결제에는 인증 앱 코드가 필요합니다. 카드 페이지(2단계 인증)에서 설정한 뒤 다시 시도하세요.',
  'The code from your authenticator app was not right, or was already used. Nothing was charged.':
    '인증 앱 코드가 올바르지 않거나 이미 사용되었습니다. 결제되지 않았습니다.',
  'This card was reported lost and is blocked. If you already have its new number, use that one; if not, get one on the New card number page.':
    '분실 신고되어 정지된 카드입니다. 새 번호를 이미 받았다면 그 번호를 쓰고, 아직이라면 새 카드 번호 페이지에서 받으세요.',
  'This card is suspended, so it cannot approve payments or sign in. Contact the card manager.':
    '정지된 카드라 결제 승인이나 로그인을 할 수 없습니다. 카드 관리 서비스에 문의하세요.',
  'Payments are accepted in {currency} only.': '{currency} 통화 결제만 받습니다.',
  'This payment of {amount} is more than your available credit of {available}.':
    '결제 금액 {amount}이(가) 사용 가능 한도 {available}을(를) 넘습니다.',
  'You have blocked {site} on your card, so it cannot take payments from you.':
    '카드에서 {site}을(를) 차단했으므로 이 사이트에서 결제할 수 없습니다.',
  'This payment of {amount} is above the maximum of {max} per payment you set.':
    '결제 금액 {amount}이(가) 직접 설정한 1회 최대 금액 {max}을(를) 넘습니다.',
  'This payment would take you past the monthly cap of {cap} you set ({spent} spent this month).':
    '이 결제를 하면 직접 설정한 월 한도 {cap}을(를) 넘습니다(이번 달 사용액 {spent}).',
  '{why} To protect you, further payments wait until then.': '{why} 회원님을 보호하기 위해 그때까지 추가 결제는 보류됩니다.',
  'This card has made {n} payments in the last hour, its limit for an hour.':
    '이 카드는 최근 1시간 동안 {n}건을 결제해 시간당 한도에 도달했습니다.',
  'This card has made {n} payments in the last 24 hours, its limit for a day.':
    '이 카드는 최근 24시간 동안 {n}건을 결제해 일일 한도에 도달했습니다.',
  'This payment would take the card past its limit of {amount} in 24 hours.':
    '이 결제를 하면 카드의 24시간 한도 {amount}을(를) 넘습니다.',
  'Payments above {limit} need a code from an authenticator app, and this card has none set up. Set one up on your card page (Second factor), then try again.':
    '{limit}을(를) 넘는 결제에는 인증 앱 코드가 필요한데 이 카드에는 설정된 인증 앱이 없습니다. 카드 페이지(2단계 인증)에서 설정한 뒤 다시 시도하세요.',
  'Payment overdue: {whose} statement of {date} still has {amount} unpaid (due {due}). New charges are refused until it is paid; free content stays open.':
    '연체: {whose} {date} 명세서에 미납액 {amount}이(가) 남아 있습니다(납부 기한 {due}). 납부할 때까지 새 결제는 거절되며, 무료 콘텐츠는 계속 이용할 수 있습니다.',
  Your: '회원님의',
  "Your guardian's": '보호자의',
  'Too many attempts from this network or device. Wait {seconds} seconds, then try again.':
    '이 네트워크나 기기에서 시도가 너무 많습니다. {seconds}초 후에 다시 시도하세요.',
  'Too many attempts from this network or device. Wait 1 second, then try again.':
    '이 네트워크나 기기에서 시도가 너무 많습니다. 1초 후에 다시 시도하세요.',

  // Error pages
  'Error': '오류',
  'Something went wrong': '문제가 발생했습니다',
  'We could not read that request': '요청을 읽을 수 없습니다',
  'Not signed in': '로그인되어 있지 않습니다',
  'Not allowed': '허용되지 않습니다',
  'Page not found': '페이지를 찾을 수 없습니다',
  Conflict: '충돌',
  'Too much data': '데이터가 너무 많습니다',
  'Unsupported content': '지원하지 않는 형식입니다',
  'Too many attempts': '시도가 너무 많습니다',
  Busy: '잠시 후 다시 시도하세요',
  'The card manager is busy. Please try again in a moment.': '카드 관리 서버가 지금 바쁩니다. 잠시 후 다시 시도하세요.',
  'Something went wrong on our side.': '저희 쪽에서 문제가 발생했습니다.',
  'The request body is larger than this server accepts.': '요청 본문이 이 서버가 받을 수 있는 크기보다 큽니다.',
  'Bad request.': '잘못된 요청입니다.',
  'There is nothing at this address.': '이 주소에는 아무것도 없습니다.',
  'This form has expired or was not sent from this site. Please go back and try again.':
    '양식이 만료되었거나 이 사이트에서 보낸 것이 아닙니다. 뒤로 돌아가 다시 시도하세요.',
  'Cannot continue': '계속할 수 없습니다',
  'The card manager cannot continue': '카드 관리 서비스에서 더 진행할 수 없습니다',
  'The member site sent a request the card manager cannot accept.': '가맹 사이트가 카드 관리 서비스에서 받을 수 없는 요청을 보냈습니다.',
  'The member site is not registered with the card manager.': '카드 관리 서비스에 등록되지 않은 가맹 사이트입니다.',
  'The member site asked to return to an address it has not registered.': '가맹 사이트가 등록하지 않은 주소로 돌아가려고 했습니다.',
  'The request was refused.': '요청이 거절되었습니다.',
  'The request could not be completed.': '요청을 완료할 수 없습니다.',

  // Form messages shared by many forms
  'Some fields need attention.': '확인이 필요한 항목이 있습니다.',
  'Some fields need another look.': '다시 확인이 필요한 항목이 있습니다.',
  'Some fields could not be read.': '읽을 수 없는 항목이 있습니다.',
  'Send this field once, as text.': '이 항목은 텍스트로 한 번만 보내세요.',
  'Contains characters that are not allowed.': '허용되지 않는 문자가 들어 있습니다.',
  'Check this field.': '이 항목을 확인하세요.',
  Required: '필수 항목입니다',
  'This is not a valid card number (16 digits).': '올바른 카드 번호(16자리)가 아닙니다.',
  'Enter the password.': '비밀번호를 입력하세요.',
  'Choose a password.': '비밀번호를 정하세요.',
  'Choose a new password.': '새 비밀번호를 정하세요.',
  'Choose another password.': '다른 비밀번호를 정하세요.',
  'Repeat the new password.': '새 비밀번호를 한 번 더 입력하세요.',
  'Type the password again.': '비밀번호를 한 번 더 입력하세요.',
  'The two new passwords differ.': '두 새 비밀번호가 서로 다릅니다.',
  'The two passwords are not the same.': '두 비밀번호가 같지 않습니다.',
  'This is the current password.': '현재 비밀번호와 같습니다.',
  'That password is one of the most common ones. Choose another.': '너무 흔한 비밀번호입니다. 다른 비밀번호를 정하세요.',
  'Do not use your date of birth in your password.': '비밀번호에 생년월일을 쓰지 마세요.',
  'Do not use {n} or more digits of a card number in your password.': '비밀번호에 카드 번호의 숫자를 {n}자리 이상 쓰지 마세요.',
  'Use at least {n} characters.': '{n}자 이상 입력하세요.',
  'Use at most {n} characters.': '{n}자 이하로 입력하세요.',
  'Enter the {n}-digit code.': '{n}자리 코드를 입력하세요.',
  'Send either the card password or the code you were sent, not both.': '카드 비밀번호나 받은 코드 중 하나만 보내세요.',
  'That code is not right, has expired or was already used. Check the latest code sent to you, or ask for a new one.':
    '코드가 올바르지 않거나 만료되었거나 이미 사용되었습니다. 가장 최근에 받은 코드를 확인하거나 새 코드를 요청하세요.',
  'Too many wrong codes. Ask for a new one.': '잘못된 코드를 너무 많이 입력했습니다. 새 코드를 요청하세요.',
  'Too many wrong attempts: ask for a new code.': '잘못된 시도가 너무 많습니다. 새 코드를 요청하세요.',
  'Not right, expired or already used.': '올바르지 않거나 만료되었거나 이미 사용되었습니다.',
  'That code is not correct. You can try {n} more times.': '코드가 올바르지 않습니다. {n}번 더 시도할 수 있습니다.',
  'That code is not correct. You can try once more.': '코드가 올바르지 않습니다. 한 번 더 시도할 수 있습니다.',
  'Not correct.': '올바르지 않습니다.',
  'The card changed in the meantime. Please try again.': '그사이 카드 정보가 바뀌었습니다. 다시 시도하세요.',
  'This card has already been replaced.': '이미 교체된 카드입니다.',
  'There is no such card.': '그런 카드가 없습니다.',
  'Sign in to your card first.': '먼저 카드로 로그인하세요.',
  'Not a page of this site.': '이 사이트의 페이지가 아닙니다.',

  // Card holder pages: sign-in, lost card, password, codes
  'Sign in to your card': '내 카드에 로그인',
  'Set your own spending limits, block member sites, turn adult content off, and set up a second factor.':
    '직접 사용 한도를 정하고, 가맹 사이트를 차단하고, 성인 콘텐츠를 끄고, 2단계 인증을 설정할 수 있습니다.',
  'Sign in': '로그인',
  'Forgot the password?': '비밀번호를 잊으셨나요?',
  'Forgot it?': '잊으셨나요?',
  'Reset it with a code': '코드로 재설정하기',
  'Report my card lost': '카드 분실 신고',
  'Your card is blocked at once and every member site you are signed in to is signed out. Afterwards you can':
    '카드는 즉시 정지되고 로그인되어 있는 모든 가맹 사이트에서 로그아웃됩니다. 이후',
  'get a new card number': '새 카드 번호를 발급받을',
  'with the same limit, balance and history.': '수 있으며 한도, 잔액, 내역은 그대로 유지됩니다.',
  'Block my card': '카드 정지하기',
  'No password at hand?': '비밀번호를 모르시나요?',
  'Block it with a code': '코드로 정지하기',
  'sent to your registered email address or mobile number.': '(등록된 이메일 주소나 휴대폰 번호로 코드를 보내 드립니다.)',
  'Change my card password': '카드 비밀번호 변경',
  'Change password': '비밀번호 변경',
  'Block my card with a code': '코드로 카드 정지하기',
  'We send a code to the email address or mobile number you registered; entering it blocks the card.':
    '등록된 이메일 주소나 휴대폰 번호로 코드를 보내 드립니다. 코드를 입력하면 카드가 정지됩니다.',
  'Get a new card number': '새 카드 번호 받기',
  'We send a code to the email address or mobile number you registered. With it you get a new number and password; your limit, balance and history stay.':
    '등록된 이메일 주소나 휴대폰 번호로 코드를 보내 드립니다. 코드로 새 번호와 비밀번호를 받으며, 한도와 잔액, 내역은 그대로 유지됩니다.',
  'Give me a new card': '새 카드 받기',
  'Reset my card password': '카드 비밀번호 재설정',
  'We send a code to the email address or mobile number you registered; with it you choose a new password.':
    '등록된 이메일 주소나 휴대폰 번호로 코드를 보내 드립니다. 코드로 새 비밀번호를 정할 수 있습니다.',
  'Set the new password': '새 비밀번호 설정',
  'Send me a code': '코드 보내기',
  'No code?': '코드를 받지 못하셨나요?',
  'Ask for a new one': '새 코드 요청하기',
  'A code works once and for {minutes} minutes.': '코드는 한 번만, {minutes}분 동안 쓸 수 있습니다.',
  'A code works once and for 1 minute.': '코드는 한 번만, 1분 동안 쓸 수 있습니다.',
  'If this card can receive codes, we sent one to the registered email address or mobile number.':
    '이 카드가 코드를 받을 수 있다면 등록된 이메일 주소나 휴대폰 번호로 코드를 보냈습니다.',
  'If this card can receive codes, one is on its way to the registered email address or mobile number.':
    '이 카드가 코드를 받을 수 있다면 등록된 이메일 주소나 휴대폰 번호로 코드가 전송 중입니다.',
  'Your card is blocked': '카드가 정지되었습니다',
  'The card ending in {last4} is blocked and every member site has been signed out.':
    '끝자리 {last4} 카드가 정지되었고 모든 가맹 사이트에서 로그아웃되었습니다.',
  'Your new card': '새 카드',
  'Write these down or store them in a password manager now: they are shown only once.':
    '지금 적어 두거나 비밀번호 관리자에 저장하세요. 한 번만 표시됩니다.',
  'Your limit, balance and history carry over. The card ending in {last4} no longer works.':
    '한도, 잔액, 내역은 그대로 이어집니다. 끝자리 {last4} 카드는 더 이상 사용할 수 없습니다.',
  'You can': '이제',
  'choose your own password': '비밀번호를 직접 정할',
  'now.': '수 있습니다.',
  'Password changed': '비밀번호가 변경되었습니다',
  'Your card password has been changed, and every member site has been signed out. Log in with the new one.':
    '카드 비밀번호가 변경되었고 모든 가맹 사이트에서 로그아웃되었습니다. 새 비밀번호로 로그인하세요.',
  'Password reset': '비밀번호가 재설정되었습니다',
  'Your card password has been reset, and every member site has been signed out. Log in with the new one.':
    '카드 비밀번호가 재설정되었고 모든 가맹 사이트에서 로그아웃되었습니다. 새 비밀번호로 로그인하세요.',

  // Card holder pages: navigation, spending controls, second factor
  'Your card': '내 카드',
  Account: '계정',
  'Spending controls': '사용 제한',
  'Report lost': '분실 신고',
  "Your guardian's card is closed, so this card cannot approve payments until a guardian with a card vouches for you again. Signing in still works.":
    '보호자의 카드가 해지되어, 카드가 있는 보호자가 다시 동의할 때까지 이 카드로 결제를 승인할 수 없습니다. 로그인은 계속 할 수 있습니다.',
  'This is more than your available credit, so it will not be approved. Deny it, or repay first and ask the site again.':
    '사용 가능 한도를 넘는 금액이라 승인되지 않습니다. 거절하거나, 먼저 상환한 뒤 사이트에서 다시 요청하세요.',
  'New card number': '새 카드 번호',
  'Second factor': '2단계 인증',
  'Largest single payment ({currency}, empty for no limit)': '1회 최대 결제 금액({currency}, 비워 두면 제한 없음)',
  'Most in a calendar month ({currency}, empty for no limit)': '한 달 최대 결제 금액({currency}, 비워 두면 제한 없음)',
  'Adult content off: refuse sites and content rated for adults': '성인 콘텐츠 끄기: 성인 등급 사이트와 콘텐츠 거절',
  'Blocked member sites (no sign-ins, no payments)': '차단한 가맹 사이트(로그인과 결제 불가)',
  Save: '저장',
  'Your spending controls are saved. They apply from the next payment or sign-in.':
    '사용 제한이 저장되었습니다. 다음 결제나 로그인부터 적용됩니다.',
  'Enter a whole amount from {min} to {max}, or leave it empty for no limit.':
    '{min}부터 {max}까지의 금액을 정수로 입력하거나, 제한이 없으면 비워 두세요.',
  'Enter an amount from {min} to {max}, or leave it empty for no limit.': '{min}부터 {max}까지의 금액을 입력하거나, 제한이 없으면 비워 두세요.',
  'Tick the box or leave it empty.': '확인란을 선택하거나 비워 두세요.',
  'At most 200 sites.': '사이트는 최대 200개까지입니다.',
  'Payments above {amount} ask for a 6-digit code from an authenticator app on your phone, so your card number and password alone are not enough for them.':
    '{amount}을(를) 넘는 결제에는 휴대폰 인증 앱의 6자리 코드가 필요하므로, 카드 번호와 비밀번호만으로는 결제할 수 없습니다.',
  'An authenticator app is set up (since {date}).': '인증 앱이 설정되어 있습니다({date}부터).',
  'An authenticator app is set up.': '인증 앱이 설정되어 있습니다.',
  "Setting up a new one replaces it once you confirm the new one's first code, with a code of the current one.":
    '새 인증 앱은 새 앱의 첫 코드와 지금 앱의 코드를 함께 확인하면 기존 앱을 대신합니다.',
  'Lost the phone it is on? Ask cybercard to remove it; you can then set up a new one.':
    '인증 앱이 있는 휴대폰을 잃어버렸나요? cybercard에 삭제를 요청한 뒤 새 앱을 설정하세요.',
  'A code from the authenticator app you have now (it is being replaced)': '지금 쓰는 인증 앱의 코드(교체될 앱)',
  'Type the code your current authenticator app shows: replacing it needs one.': '지금 쓰는 인증 앱에 표시된 코드를 입력하세요. 교체하려면 필요합니다.',
  'That is not the code your current authenticator app shows now.': '지금 쓰는 인증 앱에 표시된 코드가 아닙니다.',
  'Enter the 6-digit code your current authenticator app shows.': '지금 쓰는 인증 앱에 표시된 6자리 코드를 입력하세요.',
  'No authenticator app is set up yet.': '아직 설정된 인증 앱이 없습니다.',
  'Set up a new authenticator app': '새 인증 앱 설정',
  'Set up an authenticator app': '인증 앱 설정',
  'Add this account to your authenticator app: open the link on your phone, or type the key in by hand.':
    '인증 앱에 이 계정을 추가하세요. 휴대폰에서 링크를 열거나 키를 직접 입력하세요.',
  'Link:': '링크:',
  'Key:': '키:',
  '(time-based, 6 digits, every 30 seconds)': '(시간 기반, 6자리, 30초마다 변경)',
  'The code your app shows now': '지금 앱에 표시된 코드',
  Confirm: '확인',
  'Start again': '처음부터 다시 하기',
  'Your authenticator app is set up. Large payments will ask for its code.': '인증 앱이 설정되었습니다. 큰 금액의 결제에서 코드를 묻습니다.',
  'A list of member site client_ids.': '가맹 사이트 client_id 목록이어야 합니다.',
  'Enter the 6-digit code your authenticator app shows.': '인증 앱에 표시된 6자리 코드를 입력하세요.',
  'That code is not right. Type the 6-digit code your app shows now.': '코드가 올바르지 않습니다. 지금 앱에 표시된 6자리 코드를 입력하세요.',
  'Start the set-up first.': '먼저 설정을 시작하세요.',
  'This set-up has expired or was replaced by a newer one. Start again.': '이 설정은 만료되었거나 새 설정으로 대체되었습니다. 처음부터 다시 하세요.',

  // Applying for a card
  'Apply for a cyber card': '사이버 카드 신청',
  'Full legal name': '법적 성명',
  'Date of birth': '생년월일',
  'YYYY-MM-DD, for example 1990-05-17': 'YYYY-MM-DD 형식, 예: 1990-05-17',
  'Email address': '이메일 주소',
  'Mobile number': '휴대폰 번호',
  'At least 8 characters; not your date of birth, not a common password.': '8자 이상, 생년월일이나 흔한 비밀번호는 안 됩니다.',
  'Password again': '비밀번호 확인',
  "Guardian's card number": '보호자 카드 번호',
  "Guardian's card password": '보호자 카드 비밀번호',
  'Your cyber card': '사이버 카드',
  'Application under review': '신청 심사 중',
  'Enter your full legal name.': '법적 성명을 입력하세요.',
  'Enter your date of birth.': '생년월일을 입력하세요.',
  'Enter your email address.': '이메일 주소를 입력하세요.',
  'Enter your mobile number.': '휴대폰 번호를 입력하세요.',
  'Enter an email address like name@example.com.': 'name@example.com과 같은 형식으로 이메일 주소를 입력하세요.',
  'Use the plain (ASCII) form of the address.': '주소는 영문(ASCII) 형식으로 입력하세요.',
  'Enter a mobile number like +{code} 10 1234 5678 or 010-1234-5678.':
    '+{code} 10 1234 5678 또는 010-1234-5678과 같은 형식으로 휴대폰 번호를 입력하세요.',
  'Use letters only, with spaces, hyphens or apostrophes between words.': '글자만 쓰고, 단어 사이에는 공백, 하이픈, 아포스트로피만 쓰세요.',
  'Write your name in one alphabet; it mixes letters from different scripts.': '이름은 한 가지 문자로만 쓰세요. 서로 다른 문자가 섞여 있습니다.',
  'Use the form YYYY-MM-DD, for example 1990-05-17.': 'YYYY-MM-DD 형식으로 입력하세요. 예: 1990-05-17',
  'That date does not exist.': '존재하지 않는 날짜입니다.',
  'The date of birth cannot be in the future.': '생년월일은 미래일 수 없습니다.',
  'Check the year: that is more than {n} years ago.': '연도를 확인하세요. {n}년보다 더 전입니다.',
  'Cyber card holders must be at least {n} years old.': '사이버 카드는 만 {n}세 이상만 가질 수 있습니다.',
  "Applicants under {age} need a guardian with an active cyber card: enter the guardian's card number and password.":
    '{age}세 미만 신청자는 사용 중인 사이버 카드가 있는 보호자가 필요합니다. 보호자의 카드 번호와 비밀번호를 입력하세요.',
  "Enter the guardian's 16-digit card number.": '보호자의 16자리 카드 번호를 입력하세요.',
  "Enter the guardian's card password.": '보호자의 카드 비밀번호를 입력하세요.',
  "The guardian's card number or password is not correct, or that card is not active.":
    '보호자의 카드 번호나 비밀번호가 올바르지 않거나, 그 카드가 사용 중이 아닙니다.',
  'A guardian must be {age} or older.': '보호자는 {age}세 이상이어야 합니다.',
  "A minor's limit cannot exceed the guardian's.": '미성년자의 한도는 보호자의 한도를 넘을 수 없습니다.',
  'Tick the box to accept the terms of use.': '이용 약관에 동의하려면 확인란을 선택하세요.',
  'This email address is already registered to a cyber card. If the card is yours, you do not need another; if it is lost, report it lost to get a new number.':
    '이미 사이버 카드에 등록된 이메일 주소입니다. 본인의 카드라면 새로 만들 필요가 없으며, 분실했다면 분실 신고 후 새 번호를 받으세요.',
  'This mobile number is already registered to a cyber card. If the card is yours, you do not need another; if it is lost, report it lost to get a new number.':
    '이미 사이버 카드에 등록된 휴대폰 번호입니다. 본인의 카드라면 새로 만들 필요가 없으며, 분실했다면 분실 신고 후 새 번호를 받으세요.',
  "This guardian's card already vouches for a cyber card holder with this name and date of birth. One person holds one card; if it is lost, report it lost to get a new number.":
    '이 보호자의 카드로 같은 이름과 생년월일의 사이버 카드가 이미 발급되었습니다. 한 사람은 카드 하나만 가질 수 있으며, 분실했다면 분실 신고 후 새 번호를 받으세요.',
  'Too many applications were sent for this email address today. Please try again tomorrow.':
    '오늘 이 이메일 주소로 들어온 신청이 너무 많습니다. 내일 다시 시도하세요.',
  'Too many applications were sent from your network today. Please try again tomorrow.':
    '오늘 회원님의 네트워크에서 들어온 신청이 너무 많습니다. 내일 다시 시도하세요.',
  'We cannot accept this application online. Please contact customer service.': '이 신청은 온라인으로 받을 수 없습니다. 고객센터에 문의하세요.',
  'Send this as text.': '텍스트로 보내세요.',
  'Send this field as text.': '이 항목은 텍스트로 보내세요.',

  'A cyber card is a card number and a password: nothing physical, so nothing to lose. Most applications are decided at once, and the card number is shown on the next page.':
    '사이버 카드는 카드 번호와 비밀번호로만 이루어져 있어 실물이 없으니 잃어버릴 일도 없습니다. 대부분의 신청은 바로 결정되며, 카드 번호는 다음 페이지에 표시됩니다.',
  'For example 010-1234-5678 or +{code} 10 1234 5678': '예: 010-1234-5678 또는 +{code} 10 1234 5678',
  'Guardian (only if you are under {age})': '보호자({age}세 미만인 경우에만)',
  "Applicants from {min} to {max} need a guardian who holds an active cyber card. Your card is linked to the guardian's, and your limit is never above theirs.":
    '{min}세부터 {max}세까지의 신청자는 사용 중인 사이버 카드가 있는 보호자가 필요합니다. 신청자의 카드는 보호자의 카드에 연결되며, 한도는 보호자의 한도를 넘지 않습니다.',
  'I accept the terms of use': '이용 약관에 동의합니다',
  Apply: '신청하기',
  // The links' words come in where the sentence has {block} and {reissue}: "…정지하고", no space before 하고.
  'Lost your card? {block} and {reissue} instead of applying again.': '카드를 잃어버리셨나요? 다시 신청하지 말고 {block}하고 {reissue}.',
  'Block it': '카드를 정지',
  'get a new number': '새 번호를 받으세요',
  'Your application is being reviewed': '신청서를 심사하고 있습니다',
  'A person needs to look at your application before the card can be used. We will tell you by email and text message as soon as it is decided, usually within one working day. The card number below works once the application is approved.':
    '카드를 쓰기 전에 담당자가 신청서를 확인해야 합니다. 결정되는 대로(보통 영업일 기준 하루 안에) 이메일과 문자 메시지로 알려 드립니다. 아래 카드 번호는 신청이 승인된 뒤부터 사용할 수 있습니다.',
  'Your cyber card is ready': '사이버 카드가 준비되었습니다',
  'You can log in at member sites with this card number and the password you chose.':
    '이 카드 번호와 직접 정한 비밀번호로 가맹 사이트에 로그인할 수 있습니다.',
  'Store this card number now, for example in a password manager. It is shown only this once: we keep only its last four digits and cannot show it again.':
    '지금 이 카드 번호를 비밀번호 관리자 등에 저장하세요. 이번 한 번만 표시됩니다. 저희는 끝 네 자리만 보관하므로 다시 보여 드릴 수 없습니다.',
  'Copy card number': '카드 번호 복사',
  'Card number copied.': '카드 번호를 복사했습니다.',
  'Could not copy: the number is selected, copy it by hand.': '복사하지 못했습니다. 번호가 선택되어 있으니 직접 복사하세요.',
  Holder: '카드 소지자',
  'Credit limit': '신용 한도',
  Guardian: '보호자',
  "linked to your guardian's card": '보호자의 카드에 연결됨',
  'Your password is the one you chose; we never show it.': '비밀번호는 직접 정한 것이며, 저희는 절대 보여 드리지 않습니다.',
  'If the card is ever lost,': '카드를 잃어버리면',
  'block it here': '여기에서 정지하세요',

  // The holder's account page
  'Your account': '내 계정',
  'Payment overdue: the statement of {date} was due on {due} and {amount} is still unpaid. New charges are refused until it is paid; free content stays open.':
    '연체: {date} 명세서의 납부 기한은 {due}였으며 {amount}이(가) 아직 미납입니다. 납부할 때까지 새 결제는 거절되며, 무료 콘텐츠는 계속 이용할 수 있습니다.',
  Balance: '잔액',
  '{amount} in credit': '{amount} 초과 납부',
  '{available} of {limit}': '{limit} 중 {available}',
  'Held for open payments': '진행 중인 결제로 보류된 금액',
  'Payment reference': '납부 참조 번호',
  '(put it on every bank transfer)': '(계좌 이체 때마다 적어 주세요)',
  'Statement day': '명세서 작성일',
  'Day {day} of each month': '매월 {day}일',
  '(day {day} from the statement of {date} on)': '({date} 명세서부터 매월 {day}일)',
  'Change the statement day': '명세서 작성일 변경',
  'More about the statement day': '명세서 작성일 자세히 보기',
  'Changing to day {day}: statements close on it from the statement of {date} on.': '매월 {day}일로 바꾸는 중입니다: {date} 명세서부터 이 날에 명세서가 작성됩니다.',
  'Back to your account': '내 계정으로 돌아가기',
  'See the statement and how to pay it': '명세서와 납부 방법 보기',
  'Next statement': '다음 명세서',
  '{date}, payment due on {due}': '{date}, 납부 기한 {due}',
  'Changing to day {day}: statements close on it from the statement of {date} on. The statement day can change again from that date.':
    '매월 {day}일로 바꾸는 중입니다: {date} 명세서부터 이 날에 명세서가 작성됩니다. 명세서 작성일은 그날부터 다시 바꿀 수 있습니다.',
  'A statement closes at the start of its day ({timeZone} time) and bills everything booked before; payment is due {days} days after it.':
    '명세서는 작성일이 시작될 때({timeZone} 기준) 마감되어 그 전까지 처리된 모든 거래를 청구하며, 납부 기한은 작성일로부터 {days}일 후입니다.',
  "Your card is linked to your guardian's, so its statements close on your guardian's statement day, which your guardian chooses.":
    '내 카드는 보호자의 카드에 연결되어 있어 보호자의 명세서 작성일에 명세서가 작성되며, 작성일은 보호자가 정합니다.',
  "The children's cards linked to yours close on your statement day too.": '내 카드에 연결된 자녀 카드도 내 명세서 작성일에 명세서가 작성됩니다.',
  'Choose another day': '다른 날 선택',
  'New statement day': '새 명세서 작성일',
  'The change applies from your next statement date: your current period closes on whichever comes first, your current day or the new one, so nothing is billed twice or left out and no payment falls due later than it would now. If your current day comes first, a shorter period then runs on to the new day. One change at a time, and none while a payment is overdue.':
    '변경은 다음 명세서 작성일부터 적용됩니다. 현재 이용 기간은 지금의 작성일과 새 작성일 중 먼저 오는 날에 마감되므로, 두 번 청구되거나 빠지는 거래가 없고 납부 기한이 지금보다 늦어지지도 않습니다. 지금의 작성일이 먼저 오면 그 뒤 새 작성일까지 짧은 기간이 이어집니다. 한 번에 한 번만 바꿀 수 있으며, 연체 중에는 바꿀 수 없습니다.',
  'Change statement day': '명세서 작성일 변경',
  'Choose a day from 1 to 28.': '1일부터 28일 중에서 고르세요.',
  'This form takes only the statement day.': '이 양식은 명세서 작성일만 받습니다.',
  'Not a field of this form.': '이 양식의 항목이 아닙니다.',
  'A whole number from 1 to 28 (the day of the month statements close on).': '1부터 28까지의 정수(명세서가 작성되는 날짜)입니다.',
  'The statement day was changed to {day} already, from the statement of {date} on. It can change again from that date.':
    '명세서 작성일은 이미 {date} 명세서부터 매월 {day}일로 바뀌었습니다. 그날부터 다시 바꿀 수 있습니다.',
  'Statements close on day {day} already.': '이미 매월 {day}일에 명세서가 작성됩니다.',
  'Payment overdue: the statement of {date} was due on {due} and {amount} is still unpaid. The statement day can change once it is paid.':
    '연체: {date} 명세서의 납부 기한은 {due}였으며 {amount}이(가) 아직 미납입니다. 납부한 뒤에 명세서 작성일을 바꿀 수 있습니다.',
  'Statements now close on day {day}. Your current period closes early, on {closes}, with payment due on {due}; every statement after it closes on day {day} too.':
    '이제 매월 {day}일에 명세서가 작성됩니다. 현재 이용 기간은 {closes}에 앞당겨 마감되며 납부 기한은 {due}입니다. 그 뒤의 명세서도 모두 매월 {day}일에 작성됩니다.',
  'Statements now close on day {day}. Your current period still closes on {closes}, with payment due on {due}; the statement of {first}, covering the days between, is the first on day {day}.':
    '이제 매월 {day}일에 명세서가 작성됩니다. 현재 이용 기간은 예정대로 {closes}에 마감되며 납부 기한은 {due}입니다. 그 사이의 기간을 담은 {first} 명세서가 매월 {day}일에 작성되는 첫 명세서입니다.',
  'Your guardian changed the statement day.': '보호자가 명세서 작성일을 바꿨습니다.',
  'Statement day changed by cybercard.': 'cybercard가 명세서 작성일을 바꿨습니다.',
  'Statement day changed.': '명세서 작성일을 바꿨습니다.',
  'Your guardian changed the statement day from day {from} to day {to}, from the statement of {date} on.':
    '보호자가 명세서 작성일을 매월 {from}일에서 매월 {to}일로 바꿨습니다({date} 명세서부터).',
  'Statement day changed by cybercard from day {from} to day {to}, from the statement of {date} on.':
    'cybercard가 명세서 작성일을 매월 {from}일에서 매월 {to}일로 바꿨습니다({date} 명세서부터).',
  'Statement day changed from day {from} to day {to}, from the statement of {date} on.':
    '명세서 작성일을 매월 {from}일에서 매월 {to}일로 바꿨습니다({date} 명세서부터).',
  'Open holds': '보류 중인 금액',
  'Nothing is held.': '보류된 금액이 없습니다.',
  Approval: '승인 번호',
  Item: '항목',
  Held: '보류 금액',
  Until: '보류 기한',
  'Until ({timeZone})': '보류 기한({timeZone} 기준)',
  'Recent approvals': '최근 승인',
  'No payments yet.': '아직 결제가 없습니다.',
  Date: '날짜',
  'Date ({timeZone})': '날짜({timeZone} 기준)',
  Status: '상태',
  approved: '승인됨(보류 중)',
  captured: '청구됨',
  voided: '취소됨',
  expired: '만료됨',
  revoked: '철회됨',
  'Approved, held': '승인됨(보류 중)',
  Charged: '청구됨',
  Cancelled: '취소됨',
  Expired: '만료됨',
  Revoked: '철회됨',
  '({amount} refunded)': '({amount} 환불됨)',
  Statements: '명세서',
  'No statement yet.': '아직 명세서가 없습니다.',
  '{amount}, due {date}': '{amount}, 납부 기한 {date}',
  'Statement of {date}': '{date} 명세서',
  What: '내용',
  'Opening balance': '기초 잔액',
  'Payment received, thank you': '납부해 주셔서 감사합니다',
  'Payments received': '받은 납부금',
  'No payment received yet.': '아직 받은 납부금이 없습니다.',
  'Refund: {item}': '환불: {item}',
  'Closing balance': '기말 잔액',
  'Charges {charges}, refunds {refunds}, payments {payments}. Due {due}; pay by bank transfer with reference':
    '청구 {charges}, 환불 {refunds}, 납부 {payments}. 납부 기한은 {due}입니다. 다음 참조 번호로 계좌 이체하세요:',

  // The holder's contact details (email and mobile) page
  'Contact details': '연락처',
  'Codes to block your card, get a new number or reset the password, and every notice about your card, go to these.':
    '카드 정지, 새 번호 발급, 비밀번호 재설정에 쓰는 코드와 카드에 관한 모든 알림이 이 연락처로 갑니다.',
  none: '없음',
  'A change is waiting for its codes.': '코드 입력을 기다리는 변경이 있습니다.',
  'Enter the codes': '코드 입력하기',
  'Change them': '연락처 변경',
  'Fill in what changes; we send a code to each new address, and the change is made once you enter them.':
    '바꿀 항목만 입력하세요. 새 연락처마다 코드를 보내 드리며, 코드를 입력하면 변경됩니다.',
  'New email address': '새 이메일 주소',
  'New mobile number': '새 휴대폰 번호',
  'Your card password again, to be sure it is you.': '본인 확인을 위해 카드 비밀번호를 다시 입력하세요.',
  'Send me the codes': '코드 보내기',
  'Confirm your new contact details': '새 연락처 확인',
  'Code sent to {address}': '{address}(으)로 보낸 코드',
  'Change my contact details': '연락처 변경하기',
  'No change is waiting: it was made, it expired, or a newer one replaced it.':
    '기다리는 변경이 없습니다. 이미 변경되었거나, 만료되었거나, 새 요청으로 대체되었습니다.',
  'Your contact details are changed. We told your old ones too.': '연락처가 변경되었습니다. 이전 연락처로도 알려 드렸습니다.',
  'We sent a code to each new address. Enter them here to make the change.':
    '새 연락처마다 코드를 보냈습니다. 여기에 입력하면 변경됩니다.',
  'This is already your email address.': '이미 등록된 이메일 주소입니다.',
  'This is already your mobile number.': '이미 등록된 휴대폰 번호입니다.',
  'Enter a new email address, a new mobile number, or both.': '새 이메일 주소나 새 휴대폰 번호, 또는 둘 다 입력하세요.',
  'Enter a new email address or mobile number.': '새 이메일 주소나 휴대폰 번호를 입력하세요.',
  'Another cyber card holder has this email address. Use one of your own.': '다른 사이버 카드 소지자가 쓰는 이메일 주소입니다. 본인의 주소를 쓰세요.',
  'Another cyber card holder has this mobile number. Use one of your own.': '다른 사이버 카드 소지자가 쓰는 휴대폰 번호입니다. 본인의 번호를 쓰세요.',
  'The card password is not correct.': '카드 비밀번호가 올바르지 않습니다.',
  'Too many changes were asked for in the last hour. Try again in {minutes} minutes.':
    '최근 1시간 동안 변경 요청이 너무 많았습니다. {minutes}분 후에 다시 시도하세요.',
  'Code sent to your current contact, {address}': '지금 연락처 {address}(으)로 보낸 코드',
  'We sent a code to the new address and one to the contact you keep. Enter both here to make the change.':
    '새 연락처와 그대로 두는 연락처로 각각 코드를 보냈습니다. 둘 다 여기에 입력하면 변경됩니다.',
  'Enter the code we sent to your current email address.': '지금 이메일 주소로 보낸 코드를 입력하세요.',
  'Enter the code we sent to your current mobile number.': '지금 휴대폰 번호로 보낸 코드를 입력하세요.',
  'Change one contact at a time: the change is confirmed with a code sent to the one you keep.':
    '연락처는 한 번에 하나씩 바꾸세요. 변경은 그대로 두는 연락처로 보낸 코드로 확인합니다.',
  'Change the mobile number once the new email address is confirmed, or the other way round.':
    '새 이메일 주소가 확인된 뒤에 휴대폰 번호를 바꾸세요. 반대 순서도 됩니다.',
  'Your card has no other contact to confirm this change with. Ask cybercard to change it.':
    '이 변경을 확인할 다른 연락처가 카드에 없습니다. cybercard에 변경을 요청하세요.',
  'Ask cybercard to change it: your card has no other contact to confirm the change with.':
    'cybercard에 변경을 요청하세요. 카드에 변경을 확인할 다른 연락처가 없습니다.',
  'Enter the code we sent to your new email address.': '새 이메일 주소로 보낸 코드를 입력하세요.',
  'Enter the code we sent to your new mobile number.': '새 휴대폰 번호로 보낸 코드를 입력하세요.',
  // The holder's activity page, and the account page's warning of wrong passwords
  Activity: '이용 내역',
  'Your card activity': '카드 이용 내역',
  'Everything done with your card and account, newest first: sign-ins, wrong passwords, payments and changes. If something here was not you, change your password or report the card lost.':
    '카드와 계정에서 있었던 모든 일을 최신순으로 보여 드립니다. 로그인, 잘못 입력된 비밀번호, 결제와 각종 변경이 포함됩니다. 본인이 하지 않은 일이 있다면 비밀번호를 변경하거나 카드 분실 신고를 하세요.',
  'Nothing has happened yet.': '아직 내역이 없습니다.',
  When: '일시',
  Card: '카드',
  'ending {last4}': '끝자리 {last4}',
  'whole account': '계정 전체',
  'card not recorded': '카드 기록 없음',
  'Older activity': '이전 내역',
  'Newest activity': '최신 내역',
  'To see older activity, before= must be one whole number from 1, as the "Older activity" link gives it.':
    '이전 내역을 보려면 before= 에 1 이상의 정수 하나만 넣어야 합니다. "이전 내역" 링크를 이용하세요.',
  'a member site': '가맹 사이트',
  'Signed in at {site}.': '{site}에 로그인했습니다.',
  'Signed in to these card pages.': '카드 관리 페이지에 로그인했습니다.',
  'Wrong password at the login page of {site}.': '{site} 로그인 페이지에서 잘못된 비밀번호가 입력되었습니다.',
  'Wrong password at the sign-in to these card pages.': '카드 관리 페이지 로그인에서 잘못된 비밀번호가 입력되었습니다.',
  'Wrong password when reporting the card lost.': '카드 분실 신고에서 잘못된 비밀번호가 입력되었습니다.',
  'Wrong password when changing the password.': '비밀번호 변경에서 잘못된 현재 비밀번호가 입력되었습니다.',
  "Wrong password as a guardian's consent to a card application.": '카드 신청의 보호자 동의에서 잘못된 비밀번호가 입력되었습니다.',
  'Wrong password when changing the email or mobile number.': '이메일 주소 또는 휴대폰 번호 변경에서 잘못된 비밀번호가 입력되었습니다.',
  "Wrong password when setting a child's credit limit.": '자녀 카드의 신용 한도 설정에서 잘못된 비밀번호가 입력되었습니다.',
  'Wrong code when reporting the card lost.': '카드 분실 신고에서 잘못된 코드가 입력되었습니다.',
  'Wrong code when asking for a new card number.': '새 카드 번호 요청에서 잘못된 코드가 입력되었습니다.',
  'Wrong code when resetting the password.': '비밀번호 재설정에서 잘못된 코드가 입력되었습니다.',
  'Wrong authenticator code when approving a payment at {site}.': '{site} 결제 승인에서 잘못된 인증 앱 코드가 입력되었습니다.',
  'Wrong password.': '잘못된 비밀번호가 입력되었습니다.',
  'Refused at the login page of {site}: this card can no longer be used.': '{site} 로그인 페이지에서 거절되었습니다. 이 카드는 더 이상 쓸 수 없습니다.',
  'Refused: this card can no longer be used.': '거절되었습니다. 이 카드는 더 이상 쓸 수 없습니다.',
  'Card locked after too many wrong passwords or codes, until {until}.': '잘못된 비밀번호나 코드가 너무 많이 입력되어 {until}까지 카드가 잠겼습니다.',
  'Card locked after too many wrong passwords or codes.': '잘못된 비밀번호나 코드가 너무 많이 입력되어 카드가 잠겼습니다.',
  'Password changed.': '비밀번호를 변경했습니다.',
  'Password reset with a code.': '인증 코드로 비밀번호를 재설정했습니다.',
  'Card issued.': '카드가 발급되었습니다.',
  'Card replaced by a new card ending {last4}.': '끝자리가 {last4}인 새 카드로 교체되었습니다.',
  'Card replaced by a new card.': '새 카드로 교체되었습니다.',
  'Card suspended by cybercard.': 'cybercard에서 카드 사용을 정지했습니다.',
  'Card unblocked.': '카드 정지가 풀렸습니다.',
  'Card reported lost and blocked.': '분실 신고로 카드가 정지되었습니다.',
  'Card closed.': '카드가 해지되었습니다.',
  'Authenticator app set up.': '인증 앱을 설정했습니다.',
  'Authenticator app replaced.': '인증 앱을 교체했습니다.',
  'Authenticator app removed.': '인증 앱이 삭제되었습니다.',
  'Email address or mobile number changed.': '이메일 주소 또는 휴대폰 번호를 변경했습니다.',
  'Email address or mobile number changed by cybercard.': 'cybercard에서 이메일 주소 또는 휴대폰 번호를 변경했습니다.',
  'Spending controls changed.': '사용 제한을 변경했습니다.',
  'Spending controls saved, nothing changed.': '사용 제한을 저장했습니다. 바뀐 것은 없습니다.',
  'Spending controls changed: {changes}.': '사용 제한을 변경했습니다: {changes}.',
  'maximum per payment {from} → {to}': '1회 최대 결제 금액 {from} → {to}',
  'monthly cap {from} → {to}': '한 달 최대 결제 금액 {from} → {to}',
  'no limit': '제한 없음',
  'adult content off': '성인 콘텐츠 끄기',
  'adult content on again': '성인 콘텐츠 다시 켜기',
  '{site} blocked': '{site} 차단',
  '{site} unblocked': '{site} 차단 해제',
  'Credit limit changed from {from} to {to}.': '신용 한도가 {from}에서 {to}(으)로 변경되었습니다.',
  'Credit limit changed.': '신용 한도가 변경되었습니다.',
  'Your guardian changed the credit limit from {from} to {to}.': '보호자가 신용 한도를 {from}에서 {to}(으)로 변경했습니다.',
  'Your guardian changed the credit limit.': '보호자가 신용 한도를 변경했습니다.',
  "You came of age: your card is no longer linked to your guardian's.": '성인이 되어 카드가 더 이상 보호자의 카드에 연결되어 있지 않습니다.',
  'Account opened.': '계정이 개설되었습니다.',
  'Repayment of {amount} received.': '{amount} 납부가 확인되었습니다.',
  'Repayment received.': '납부가 확인되었습니다.',
  'Payment of {amount} approved at {site}.': '{site}에서 {amount} 결제가 승인되었습니다.',
  'Payment approved at {site}.': '{site}에서 결제가 승인되었습니다.',
  '{amount} charged by {site}.': '{site}에서 {amount}이(가) 청구되었습니다.',
  'Payment charged by {site}.': '{site}에서 결제 금액이 청구되었습니다.',
  '{amount} refunded by {site}.': '{site}에서 {amount}을(를) 환불했습니다.',
  'Payment refunded by {site}.': '{site}에서 결제를 환불했습니다.',
  '{site} cancelled a payment; {amount} held for it is free again.': '{site}에서 결제를 취소하여, 보류되었던 {amount}을(를) 다시 쓸 수 있습니다.',
  '{site} cancelled a payment.': '{site}에서 결제를 취소했습니다.',
  'A payment at {site} was not charged in time; {amount} held for it is free again.':
    '{site} 결제가 기한 안에 청구되지 않아, 보류되었던 {amount}을(를) 다시 쓸 수 있습니다.',
  'A payment hold at {site} expired.': '{site} 결제의 보류 기한이 지났습니다.',
  'A payment at {site} was cancelled when the card was stopped; {amount} held for it is free again.':
    '카드가 정지되어 {site} 결제가 취소되었고, 보류되었던 {amount}을(를) 다시 쓸 수 있습니다.',
  'A payment at {site} was cancelled when the card was stopped.': '카드가 정지되어 {site} 결제가 취소되었습니다.',
  'A wrong password was entered for this card since your last sign-in. If that was not you, change your password.':
    '지난번 로그인 이후 이 카드에 잘못된 비밀번호가 입력되었습니다. 본인이 아니라면 비밀번호를 변경하세요.',
  '{count} wrong passwords were entered for this card since your last sign-in. If that was not you, change your password.':
    '지난번 로그인 이후 이 카드에 잘못된 비밀번호가 {count}번 입력되었습니다. 본인이 아니라면 비밀번호를 변경하세요.',
  'A wrong password was entered for this card in the last 30 days. If that was not you, change your password.':
    '최근 30일 동안 이 카드에 잘못된 비밀번호가 입력되었습니다. 본인이 아니라면 비밀번호를 변경하세요.',
  '{count} wrong passwords were entered for this card in the last 30 days. If that was not you, change your password.':
    '최근 30일 동안 이 카드에 잘못된 비밀번호가 {count}번 입력되었습니다. 본인이 아니라면 비밀번호를 변경하세요.',
  'See your card activity': '카드 이용 내역 보기',

  // A guardian's view of the cards linked to theirs
  "Children's cards": '자녀 카드',
  'No cards are linked to yours.': '내 카드에 연결된 카드가 없습니다.',
  "A minor applies with a guardian's card; their card is then linked to the guardian's and shown here.":
    '미성년자는 보호자의 카드로 신청하며, 그 카드는 보호자의 카드에 연결되어 여기에 표시됩니다.',
  'These cards were applied for with your card. You answer for them: their limit is never above yours.':
    '이 카드들은 내 카드로 신청되었습니다. 보호자로서 책임지며, 이 카드들의 한도는 내 한도를 넘지 않습니다.',
  'not yet active': '아직 사용 전',
  active: '사용 중',
  'blocked by cybercard': '사이버카드가 정지함',
  'reported lost': '분실 신고됨',
  closed: '해지됨',
  'Balance owed': '갚을 금액',
  'Approved this month': '이번 달 승인 금액',
  'Member site': '가맹 사이트',
  'Set the limit': '한도 설정',
  "From 0, which pauses the card's payments (signing in still works), up to your own limit.":
    '0(카드 결제 일시 중지, 로그인은 계속 가능)부터 내 한도까지 설정할 수 있습니다.',
  'New limit ({currency})': '새 한도 ({currency})',
  'Your card password': '내 카드 비밀번호',
  'Your own card password again, to be sure it is you.': '본인 확인을 위해 내 카드 비밀번호를 다시 입력하세요.',
  'The limit of {name} is now {amount}.': '{name}의 한도가 이제 {amount}입니다.',
  'There is no such card among those linked to yours.': '내 카드에 연결된 카드 중에 그런 카드가 없습니다.',
  "A child's limit cannot be above the most a minor's card may have.": '자녀의 한도는 미성년자 카드의 최대 한도보다 높을 수 없습니다.',
  "A child's limit cannot be above your own.": '자녀의 한도는 내 한도보다 높을 수 없습니다.',
  'At most your own limit, {amount}.': '최대 내 한도인 {amount}까지입니다.',
  "At most {amount}, the most a minor's card may have.": '미성년자 카드의 최대 한도인 {amount}까지입니다.',
  'Enter a whole amount from {min} (payments paused) to {max}.': '{min}(결제 일시 중지)부터 {max}까지의 금액을 정수로 입력하세요.',
  'Enter an amount from {min} (payments paused) to {max}.': '{min}(결제 일시 중지)부터 {max}까지의 금액을 입력하세요.',
  'Enter the new limit.': '새 한도를 입력하세요.',
};
