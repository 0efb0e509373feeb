"""Name lists for the demo county (fieldwatch.demo.county).

Township names are invented but follow Sichuan naming habits; none of them claims to be
a real place at the generated position.
"""

COUNTY_NAME = "雁江区"
COUNTY_CODE = "512002000000"

SUBDISTRICT_NAMES = tuple("莲台 狮岭 贤祠 沱滨 雁城 文峰".split())
TOWN_NAMES = tuple(
    "宝峰 临沱 保安 老鹰 中兴 丹岩 小河 堪山 伍龙 石桥 东林 南溪 丰乐 祥云 忠和 迎丰".split()
)
XIANG_NAMES = tuple("清泉 松涛 碑石 金鼓 雁塔".split())

# village names: first + second syllable + 村
VILLAGE_FIRST = tuple(
    "石桂龙凤红青白黄金银新双三五高长大小东西南北松柏桃李竹梨"
    "荷兴和安福永太宝观天马鹤燕雁古清铁灯鱼牛狮麻蔡何罗杨花楠"
)
VILLAGE_SECOND = tuple("山桥湾坝塘林岩庙河溪井堰沟坪岭垭院滩寺园田丘冲嘴店坡碑台观峰湖家冈水坳")
# community names: first + second (may be empty) + 社区
COMMUNITY_FIRST = tuple(
    "莲花 和平 建设 人民 新华 胜利 滨江 沱江 雁湖 文化 育才 迎宾 春晓 幸福 民主 康宁 锦城 北门"
    " 南门 东门 西门 解放 凤岭 桂湖 松涛 金桥 花园 复兴 朝阳 友谊 团结 红星 兴隆 太平 宝莲 云台"
    " 青龙 白塔 三贤 双井".split()
)
COMMUNITY_SECOND = ("", "路", "街", "苑", "园", "坊", "桥")

SURNAMES = tuple(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜"
    "叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛段雷侯龙史陶黎"
)
GIVEN = tuple(
    "国志建华明德文军平伟勇强刚杰涛斌林英兰芳丽红敏静秀玉琴霞燕丹萍云洪俊海波春晓"
    "东雪梅桂蓉莉娟婷慧学光永成亮庆兵荣晨家祥福贵利益金银松柏川渝江雁"
)

# 界别 of committee members; the first is used for leaders
SECTORS = ("中共", "民革", "民盟", "民建", "无党派", "经济界", "农业界", "教育界", "医药卫生界")

# short ascii unit (承办单位) codes used by the demo users, with display names
UNIT_NAMES = {
    "transport": "区交通运输局",
    "water": "区水务局",
    "sanitation": "区城市管理和综合执法局",
}
